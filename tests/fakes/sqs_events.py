"""SQS events as Lambda delivers them, and a poller standing in for Lambda's SQS event source mapping.

Records are built on the recorded event (`sam local generate-event sqs receive-message`) from
messages really received from the moto server: their id, receipt handle, body and attributes
(`ApproximateReceiveCount` included). The poller receives a batch, invokes the real handler, and
deletes what the handler did not report in `batchItemFailures`, as Lambda does. The handler runs on
a thread of its own, as another function's execution environment: outside Lambda, Powertools' batch
processor runs each batch with `asyncio.run`, which must not unset the test thread's event loop (the
one Mangum runs the API's invocations on).
"""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakes.lambda_context import FakeLambdaContext

if TYPE_CHECKING:
    from collections.abc import Callable

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
)


@cache
def _recorded_record() -> dict[str, Any]:
    return json.loads((EVENTS_DIR / "sqs_receive_message.json").read_text())["Records"][0]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda event for messages returned by ReceiveMessage (AttributeNames=All)."""
    records = []
    for message in messages:
        record = copy.deepcopy(_recorded_record())
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=message["MD5OfBody"],
            eventSourceARN=queue_arn,
            attributes={name: message["Attributes"][name] for name in _RECORD_ATTRIBUTES},
        )
        records.append(record)
    return {"Records": records}


@dataclass
class PollResult:
    received: int = 0
    failed: int = 0
    invocations: int = 0
    responses: list[dict[str, Any]] = field(default_factory=list)


class SqsPoller:
    """Lambda's event source mapping for one queue, run in the test's thread, one batch at a time."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        *,
        batch_size: int = 10,
        timeout_ms: int = 120_000,
    ) -> None:
        self._client = client
        self._queue_url = queue_url
        self._queue_arn = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._handler = handler
        self._batch_size = batch_size
        self._timeout_ms = timeout_ms
        self._environment = ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-environment")

    def receive(self) -> list[dict[str, Any]]:
        return self._client.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def deliver(self, messages: list[dict[str, Any]], result: PollResult | None = None) -> PollResult:
        """Invoke the handler with `messages`; delete those it did not report as failed."""
        result = result or PollResult()
        context = FakeLambdaContext(
            function_name="textapi-dev-PublicApiWorkerFunction", timeout_ms=self._timeout_ms
        )
        event = sqs_event(messages, self._queue_arn)
        response = self._environment.submit(self._handler, event, context).result(timeout=120)
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            self._client.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        result.received += len(messages)
        result.failed += len(failed)
        result.invocations += 1
        result.responses.append(response)
        return result

    def drain(self, *, max_polls: int = 500) -> PollResult:
        """Poll until a receive comes back empty (bounded)."""
        result = PollResult()
        for _ in range(max_polls):
            messages = self.receive()
            if not messages:
                return result
            self.deliver(messages, result)
        raise AssertionError(f"the queue was not drained in {max_polls} polls")


@dataclass(frozen=True)
class JobsQueue:
    """A test's queue on moto and its dead-letter queue."""

    MAX_RECEIVE_COUNT = 3

    client: Any
    url: str
    dead_letter_url: str

    def count(self, url: str | None = None) -> int:
        """Messages in the queue, visible or in flight."""
        attributes = self.client.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
