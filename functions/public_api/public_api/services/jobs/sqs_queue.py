"""The job queue on SQS (`JOBS_QUEUE_URL`): batched sends from the public function, visibility
changes (the back-off of a retried message) from the worker. boto3 calls run in worker threads."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from public_api.services.jobs.records import MAX_MESSAGE_BYTES
from textapi_shared.aws import aws_client

if TYPE_CHECKING:
    from collections.abc import Sequence

    from public_api.config import PublicApiSettings
    from public_api.services.jobs.records import JobMessage

_BATCH_ENTRIES = 10  # SendMessageBatch's limit
_PARALLEL_SENDS = 4
_MAX_VISIBILITY_S = 43_200  # SQS's limit: 12 hours


class SqsJobQueue:
    def __init__(
        self, settings: PublicApiSettings, *, client: Any | None = None, queue_url: str | None = None
    ) -> None:
        self._settings = settings
        self._injected = client
        self.queue_url = queue_url or settings.jobs_queue_url

    def _client(self) -> Any:
        return self._injected if self._injected is not None else aws_client(self._settings, "sqs")

    async def send(self, messages: Sequence[JobMessage]) -> None:
        batches: list[list[str]] = [[]]
        size = 0
        for body in (message.to_json() for message in messages):
            if len(batches[-1]) >= _BATCH_ENTRIES or (batches[-1] and size + len(body) > MAX_MESSAGE_BYTES):
                batches.append([])
                size = 0
            batches[-1].append(body)
            size += len(body)
        limit = asyncio.Semaphore(_PARALLEL_SENDS)

        async def send_one(bodies: list[str]) -> None:
            async with limit:
                await asyncio.to_thread(self._send_batch, bodies)

        await asyncio.gather(*(send_one(bodies) for bodies in batches if bodies))

    def _send_batch(self, bodies: list[str]) -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
        for _ in range(2):  # entries SQS reports as failed get one more try
            response = self._client().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failed = {entry["Id"] for entry in response.get("Failed", [])}
            entries = [entry for entry in entries if entry["Id"] in failed]
            if not entries:
                return
        raise RuntimeError(f"SQS refused {len(entries)} job messages")

    async def delay(self, receipt_handle: str, seconds: float) -> None:
        """Make a received message visible again only after `seconds` (its retry back-off)."""
        visibility = max(0, min(_MAX_VISIBILITY_S, round(seconds)))
        # The client is built (on first use) in the worker thread too, not on the event loop.
        await asyncio.to_thread(
            lambda: self._client().change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=visibility
            )
        )
