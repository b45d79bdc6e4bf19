"""The job's callback: `POST` of its counts and token totals to the URL given at submission.

A Standard Webhooks message (SPEC §12): `webhook-id` the same on every attempt, `webhook-timestamp` and
`webhook-signature` new on each, signed with the owner key's own secret (`security.webhooks`: derived
from the deployment's `JOB_CALLBACK_SECRET_SSM_PARAMETER`, a SecureString read on first use;
`JOB_CALLBACK_SECRET` locally), and with its previous one too while a rotation's overlap lasts. The URL
is vetted again at send time and the connection goes to the vetted address
(`textapi_shared.security.outbound`, `pinned_https`). Retried with back-off within the invocation's time; a
callback that cannot be delivered is logged and counted, never a failure of the job.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

from textapi_shared.aws import SecretUnavailableError
from textapi_shared.errors import NotConfiguredError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.security.outbound import UnsafeUrlError, resolve_host, vet_url
from textapi_shared.security.webhooks import webhook_headers

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable

    from public_api.config import PublicApiSettings
    from public_api.services.jobs.records import JobCounts, JobRecord
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.resilience.deadline import Deadline
    from textapi_shared.security.webhooks import CallbackSecrets
    from textapi_shared.tenancy.records import KeyRecord

EVENT_TYPE = "job.finished"


def message_id(job: JobRecord) -> str:
    """The callback's `webhook-id`: one per job, so a receiver drops a redelivery it has seen."""
    return f"msg_{job.job_id}"


def callback_body(job: JobRecord, counts: JobCounts) -> bytes:
    payload = {
        "type": EVENT_TYPE,
        "job_id": job.job_id,
        "batch_id": job.batch_id,
        "status": job.status,
        "total_requests": job.total,
        "completed": counts.completed,
        "failed": counts.failed,
        "cancelled": counts.cancelled,
        "tokens_billed": counts.tokens_billed,
        "tokens_saved": counts.tokens_saved,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class CallbackSender:
    def __init__(
        self,
        settings: PublicApiSettings,
        *,
        observability: Observability,
        secrets: CallbackSecrets,
        records: Callable[[str], Awaitable[KeyRecord | None]],
        resolve: Callable[[str, int], Awaitable[list[str]]] = resolve_host,
        retry_base_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._allow_loopback = settings.job_callback_allow_loopback
        self._ca_file = settings.job_callback_ca_file or None
        self._timeout_s = settings.job_callback_timeout_seconds
        self._attempts = settings.job_callback_attempts
        self._user_agent = f"textapi-callback/{settings.version}"
        self._obs = observability
        self._secrets = secrets
        self._records = records
        self._resolve = resolve
        self._retry_base_s = retry_base_s
        self._clock = clock
        self._context: ssl.SSLContext | None = None

    async def vet(self, url: str) -> None:
        """`UnsafeUrlError` unless `url` may be called now (also checked again at send time)."""
        await vet_url(url, allow_loopback=self._allow_loopback, resolve=self._resolve)

    async def check_signable(self) -> None:
        """409 `NOT_CONFIGURED` unless the signing secret can be read now, so a job is never accepted with
        a callback the worker could not sign. The reader logs the parameter and the reason; the answer
        names neither. The value is cached, so this costs an SSM call once per cache period."""
        try:
            await asyncio.to_thread(self._secrets.read)
        except SecretUnavailableError as exc:
            raise NotConfiguredError(
                "Job callbacks cannot be signed on this deployment right now: submit without "
                "callback_url, or retry later.",
                details={"field": "callback_url"},
            ) from exc

    async def send(self, job: JobRecord, counts: JobCounts, *, deadline: Deadline) -> bool:
        """Deliver the callback of a finished job; True when the receiver answered 2xx."""
        assert job.callback_url is not None
        where = {"job_id": job.job_id, "status": job.status}
        body = callback_body(job, counts)
        try:
            secrets = await self.owner_secrets(job.owner)
        except Exception as exc:
            return self._gave_up("callback secret unavailable", where, exc)
        for attempt in range(1, self._attempts + 1):
            headers = {
                **webhook_headers(secrets, message_id(job), int(self._clock()), body),
                "User-Agent": self._user_agent,
            }
            try:
                vetted = await vet_url(
                    job.callback_url, allow_loopback=self._allow_loopback, resolve=self._resolve
                )
            except UnsafeUrlError as exc:
                return self._gave_up(f"callback refused: {exc}", where)
            timeout_s = min(self._timeout_s, deadline.remaining())
            if timeout_s <= 0:
                break
            try:
                from textapi_shared.security.pinned_https import post_json

                status = await asyncio.to_thread(
                    post_json, vetted, body, headers=headers, context=self._tls(), timeout_s=timeout_s
                )
            except Exception as exc:
                self._obs.logger.warning(
                    "callback attempt failed",
                    extra={**where, "attempt": attempt, "error": type(exc).__name__},
                )
            else:
                if 200 <= status < 300:
                    self._obs.logger.info("callback delivered", extra={**where, "attempt": attempt})
                    return True
                self._obs.logger.warning(
                    "callback refused by receiver", extra={**where, "http_status": status}
                )
            pause = min(self._retry_base_s * 2 ** (attempt - 1), deadline.remaining())
            if attempt < self._attempts and pause > 0:
                await asyncio.sleep(pause)
        return self._gave_up("callback not delivered", where)

    async def current_secret(self, owner: str, record: KeyRecord | None) -> str:
        """The secret `owner`'s callbacks are signed with from now on (its record's current generation)."""
        generation = record.secret_generation if record is not None else 0
        return await asyncio.to_thread(self._secrets.of, owner, generation)

    async def owner_secrets(self, owner: str) -> list[str]:
        """The secrets a callback to `owner` is signed with: its key's current one, and its previous one
        while a rotation's overlap lasts (a static key's never changes)."""
        record = await self._records(owner)
        generations = record.secret_generations(self._clock()) if record is not None else (0,)
        return await asyncio.to_thread(lambda: [self._secrets.of(owner, g) for g in generations])

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:  # built on first use, never at init (SnapStart, cold start)
            from textapi_shared.security.pinned_https import tls_context

            self._context = tls_context(self._ca_file)
        return self._context

    def _gave_up(self, message: str, where: dict[str, str], exc: Exception | None = None) -> bool:
        extra = {**where, **({"error": type(exc).__name__} if exc is not None else {})}
        self._obs.logger.warning(message, extra=extra)
        self._obs.count(MetricName.JOB_CALLBACKS_FAILED)
        return False
