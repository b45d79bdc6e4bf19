"""`Idempotency-Key` for POST routes: the first response is kept and replayed, never run twice.

Scoped to the calling key (after authentication) and to the key's hash, never its text. The
fingerprint is the route and the request body (its JSON, canonicalised): the same key with another
body or route is 422 `IDEMPOTENCY_KEY_REUSED`; while the first request runs, 409
`IDEMPOTENCY_IN_FLIGHT`. Only final answers are kept: 2xx and 4xx. A 5xx, a 429 or a 409 releases
the claim, so the retry runs for real. A replay carries `Idempotent-Replayed: true` and is metered as a
read (a quarter request of the caller's per-minute limit).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Protocol

from starlette.responses import Response

from textapi_shared.errors import (
    ApiError,
    IdempotencyInFlightError,
    IdempotencyKeyReusedError,
    InputValidationError,
    ServiceUnavailableError,
)
from textapi_shared.idempotency.store import IdempotencyRecord
from textapi_shared.web.dependencies import spend_read
from textapi_shared.web.errors import error_response, request_id_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from aws_lambda_powertools.logging import Logger
    from fastapi import Request
    from pydantic import BaseModel

    from textapi_shared.idempotency.store import IdempotencyStore
    from textapi_shared.resilience.deadline import Deadline

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
DESCRIPTION = (
    "Send the same key to retry safely: within 24 h the first response is replayed "
    "(`Idempotent-Replayed: true`); another body with the key is 422, a request still running 409."
)
# The header in an OpenAPI document, for routes that read it without a dependency (the hot path).
OPENAPI_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": DESCRIPTION,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}
# A claim must outlive the request that holds it, or a retry could start while it still runs.
LEASE_MARGIN_S = 30.0
# A replay is the first response: where its job is, and what it billed and how (`X-Tokens-Billed`, `X-Cache`).
_REPLAYED_HEADERS = frozenset({"location", "x-tokens-billed", "x-cache"})
_NOT_KEPT = frozenset({409, 429})


def model_response(
    model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A route's model as the JSON response itself: what `IdempotentCall` keeps and replays."""
    return Response(
        content=model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def _keeps(status: int) -> bool:
    return (200 <= status < 300 or 400 <= status < 500) and status not in _NOT_KEPT


def checked_idempotency_key(value: str | None) -> str | None:
    """The header's value; 422 when it is empty, too long or not printable ASCII."""
    if value is None:
        return None
    if not 0 < len(value) <= MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise InputValidationError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            details={
                "errors": [
                    {
                        "field": HEADER,
                        "location": ["header", HEADER],
                        "message": f"1 to {MAX_KEY_LENGTH} printable ASCII characters",
                        "type": "value_error",
                    }
                ]
            },
        )
    return value


class Sealing(Protocol):
    """How a route's response is kept when it holds what must not be stored (PII put back in an answer):
    `conceal` gives the body to keep, `reveal` turns a kept body back into the one to replay."""

    def conceal(self, response: Response) -> bytes: ...

    async def reveal(self, body: bytes) -> bytes: ...


class IdempotentCall:
    """One request's use of its `Idempotency-Key` (or a pass-through when it sent none)."""

    def __init__(
        self,
        request: Request,
        idempotency_key: str | None,
        *,
        store: IdempotencyStore,
        scope: str,
        ttl_s: int,
        deadline: Deadline,
        logger: Logger,
    ) -> None:
        self._request = request
        self._store = store
        self._ttl_s = ttl_s
        self._deadline = deadline
        self._logger = logger
        presented = checked_idempotency_key(idempotency_key)
        digest = hashlib.sha256(presented.encode()).hexdigest()[:32] if presented is not None else None
        self.record_key = f"{scope}:{digest}" if digest is not None else None

    async def run(
        self, produce: Callable[[], Awaitable[Response]], *, sealing: Sealing | None = None
    ) -> Response:
        """`produce()`'s response, or the one kept for this key; `produce` is awaited at most once.
        With `sealing`, what is kept is its `conceal`ed body, and a replay its `reveal`ed one."""
        if self.record_key is None:
            return await produce()
        fingerprint = await self._fingerprint()
        try:
            existing = await self._store.claim(
                self.record_key, fingerprint, lease_s=self._deadline.remaining() + LEASE_MARGIN_S
            )
        except Exception as exc:
            self._logger.warning(
                "idempotency store error", extra={"action": "claim", "error": type(exc).__name__}
            )
            raise ServiceUnavailableError(
                "Idempotency records cannot be reached; retry shortly.", retry_after=5
            ) from exc
        if existing is not None:
            replay = self._answer_existing(existing, fingerprint)
            if sealing is not None and 200 <= replay.status_code < 300:
                replay.body = await sealing.reveal(bytes(replay.body))
                replay.headers["content-length"] = str(len(replay.body))
            await spend_read(self._request)  # a replay is metered as a read of a stored result
            return replay
        try:
            response = await produce()
        except ApiError as exc:
            if not _keeps(exc.status_code):
                await self._release()
                raise
            response = error_response(exc, request_id_of(self._request))
        except BaseException:
            await self._release()
            raise
        if _keeps(response.status_code):
            kept = sealing.conceal(response) if sealing is not None else bytes(response.body)
            await self._complete(fingerprint, response, kept)
        else:
            await self._release()
        return response

    async def _fingerprint(self) -> str:
        body = await self._request.body()
        try:
            canonical = json.dumps(
                json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
        except ValueError:
            canonical = body.decode("utf-8", "replace")
        route = self._request.scope.get("route")
        path = getattr(route, "path", None) or self._request.url.path
        digest = hashlib.sha256(f"{self._request.method} {path}\n{canonical}".encode())
        return digest.hexdigest()

    @staticmethod
    def _answer_existing(existing: IdempotencyRecord, fingerprint: str) -> Response:
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError(
                f"This {HEADER} was already used with a different request; use a new key for a new request."
            )
        if not existing.completed:
            raise IdempotencyInFlightError(headers={"Retry-After": "1"})
        return Response(
            content=existing.body,
            status_code=existing.status_code,
            media_type="application/json",
            headers={**dict(existing.headers), REPLAYED_HEADER: "true"},
        )

    async def _complete(self, fingerprint: str, response: Response, body: bytes) -> None:
        assert self.record_key is not None
        record = IdempotencyRecord(
            fingerprint=fingerprint,
            completed=True,
            status_code=response.status_code,
            body=body.decode("utf-8"),
            headers=tuple((k, v) for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS),
        )
        try:
            await self._store.complete(self.record_key, record, ttl_s=self._ttl_s)
        except Exception as exc:  # the work is done: answer it; the claim lapses with its lease
            self._logger.warning(
                "idempotency store error", extra={"action": "complete", "error": type(exc).__name__}
            )

    async def _release(self) -> None:
        assert self.record_key is not None
        try:
            await self._store.release(self.record_key)
        except Exception as exc:
            self._logger.warning(
                "idempotency store error", extra={"action": "release", "error": type(exc).__name__}
            )
