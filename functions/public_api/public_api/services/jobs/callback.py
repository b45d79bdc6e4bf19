"""The job's callback: `POST {job_id, status, completed, failed}` to the URL given at submission.

Signed `X-Textapi-Signature: sha256=<hex HMAC-SHA256 of the body>` with the deployment's secret
(`JOB_CALLBACK_SECRET_SSM_PARAMETER`, a SecureString read on first use; `JOB_CALLBACK_SECRET`
locally). The URL is vetted again at send time and the connection goes to the vetted address
(`textapi_shared.security.outbound`, `pinned_https`). Retried with back-off within the invocation's time; a
callback that cannot be delivered is logged and counted, never a failure of the job.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from textapi_shared.aws import SecretUnavailableError
from textapi_shared.errors import NotConfiguredError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.security.outbound import UnsafeUrlError, resolve_host, vet_url

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable

    from public_api.config import PublicApiSettings
    from public_api.services.jobs.records import JobCounts, JobRecord
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.resilience.deadline import Deadline

SIGNATURE_HEADER = "X-Textapi-Signature"


def signature(secret: str, body: bytes) -> str:
    """The header value a receiver recomputes to trust a callback."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def callback_body(job: JobRecord, counts: JobCounts) -> bytes:
    payload = {
        "job_id": job.job_id,
        "status": job.status,
        "completed": counts.completed,
        "failed": counts.failed,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class CallbackSender:
    def __init__(
        self,
        settings: PublicApiSettings,
        *,
        observability: Observability,
        secret: Callable[[], str],
        resolve: Callable[[str, int], Awaitable[list[str]]] = resolve_host,
        retry_base_s: float = 1.0,
    ) -> None:
        self._allow_loopback = settings.job_callback_allow_loopback
        self._ca_file = settings.job_callback_ca_file or None
        self._timeout_s = settings.job_callback_timeout_seconds
        self._attempts = settings.job_callback_attempts
        self._user_agent = f"textapi-callback/{settings.version}"
        self._obs = observability
        self._secret = secret
        self._resolve = resolve
        self._retry_base_s = retry_base_s
        self._context: ssl.SSLContext | None = None

    async def vet(self, url: str) -> None:
        """`UnsafeUrlError` unless `url` may be called now (also checked again at send time)."""
        await vet_url(url, allow_loopback=self._allow_loopback, resolve=self._resolve)

    async def check_signable(self) -> None:
        """409 `NOT_CONFIGURED` unless the signing secret can be read now, so a job is never accepted with
        a callback the worker could not sign. The reader logs the parameter and the reason; the answer
        names neither. The value is cached, so this costs an SSM call once per cache period."""
        try:
            await asyncio.to_thread(self._secret)
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
            secret = await asyncio.to_thread(self._secret)
        except Exception as exc:
            return self._gave_up("callback secret unavailable", where, exc)
        headers = {SIGNATURE_HEADER: signature(secret, body), "User-Agent": self._user_agent}
        for attempt in range(1, self._attempts + 1):
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
