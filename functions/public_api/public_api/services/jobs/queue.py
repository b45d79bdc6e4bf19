"""The job queue port and its in-process twin (`JOBS_BACKEND=memory`).

In AWS the queue is SQS and the worker function consumes it (`sqs_queue`, `public_api.worker`).
Locally the same `JobWorker` consumes an asyncio queue on the serving event loop, with SQS's
semantics: a failed message comes back after its back-off with its receive count raised, and one
that fails its last receive lands in `dead_letters` instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from textapi_shared.resilience.deadline import Deadline

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_lambda_powertools.logging import Logger

    from public_api.services.jobs.records import JobMessage
    from public_api.services.jobs.worker import JobWorker


class JobQueue(Protocol):
    async def send(self, messages: Sequence[JobMessage]) -> None:
        """Enqueue every message or raise (then none should be relied upon)."""
        ...


class MemoryJobQueue:
    def __init__(
        self,
        worker: JobWorker,
        *,
        logger: Logger,
        concurrency: int,
        max_receive_count: int,
        message_timeout_s: float,
        consumers: int = 2,
    ) -> None:
        self._worker = worker
        self._logger = logger
        self._concurrency = concurrency
        self._max_receive_count = max_receive_count
        self._message_timeout_s = message_timeout_s
        self._consumers = consumers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[JobMessage, int]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.dead_letters: list[JobMessage] = []

    async def send(self, messages: Sequence[JobMessage]) -> None:
        queue = self._started()
        for message in messages:
            queue.put_nowait((message, 1))

    async def drained(self) -> None:
        """Wait until every message sent so far has been handled (tests, graceful shutdown)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Cancel the consumers, on their loop, before it closes (a loop that ends by itself, as
        `asyncio.run`'s does, cancels them anyway): a message in progress stays pending, as it would when
        the process stops."""
        tasks, self._tasks, self._queue, self._loop = self._tasks, set(), None, None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _started(self) -> asyncio.Queue[tuple[JobMessage, int]]:
        """The queue of the running loop, its consumers started on first use (no loop exists at init)."""
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._loop, self._queue = loop, asyncio.Queue()
            self._tasks = {loop.create_task(self._consume(self._queue)) for _ in range(self._consumers)}
        return self._queue

    async def _consume(self, queue: asyncio.Queue[tuple[JobMessage, int]]) -> None:
        # One consumer stands for one worker invocation: its own concurrency limit, as in Lambda.
        semaphore = asyncio.Semaphore(self._concurrency)
        while True:
            message, receive_count = await queue.get()
            try:
                await self._handle(queue, message, receive_count, semaphore)
            finally:
                queue.task_done()

    async def _handle(
        self,
        queue: asyncio.Queue[tuple[JobMessage, int]],
        message: JobMessage,
        receive_count: int,
        semaphore: asyncio.Semaphore,
    ) -> None:
        from public_api.services.jobs.worker import retry_delay

        try:
            outcome = await self._worker.process(
                message,
                receive_count=receive_count,
                deadline=Deadline.after(self._message_timeout_s),
                semaphore=semaphore,
            )
            delay = outcome.retry_after_s
        except Exception:
            self._logger.exception(
                "job message failed", extra={"job_id": message.job_id, "group": message.group}
            )
            if receive_count >= self._max_receive_count:
                self.dead_letters.append(message)
                return
            delay = retry_delay(receive_count, self._worker.retry_base_s)
        if delay is not None:
            asyncio.get_running_loop().call_later(delay, queue.put_nowait, (message, receive_count + 1))
