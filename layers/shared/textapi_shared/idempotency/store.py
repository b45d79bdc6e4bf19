"""The idempotency port: records, their encoding, the `IdempotencyStore` protocol and the memory backend.

A record is `in progress` (claimed; it lives for a lease that outlasts the claimer's deadline, so an
abandoned claim frees itself) or `completed` (the final response, kept for the retention period).
Every backend claims with one conditional put on one key: Redis `SET NX PX`, DynamoDB
`attribute_not_exists`, a dict here. Records are codec bytes (JSON, compressed when large).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, NamedTuple, Protocol

from textapi_shared.cache.codec import decode, encode

if TYPE_CHECKING:
    from collections.abc import Callable

_COMPRESSION_THRESHOLD = 1000


class IdempotencyRecord(NamedTuple):
    """What a key holds: the request's fingerprint and, once completed, the response to replay."""

    fingerprint: str
    completed: bool = False
    status_code: int = 0
    body: str = ""  # the response body (JSON text)
    headers: tuple[tuple[str, str], ...] = ()

    def to_bytes(self) -> bytes:
        value = {
            "fingerprint": self.fingerprint,
            "completed": self.completed,
            "status_code": self.status_code,
            "body": self.body,
            "headers": [list(pair) for pair in self.headers],
        }
        return encode(value, threshold=_COMPRESSION_THRESHOLD).data

    @classmethod
    def from_bytes(cls, data: bytes) -> IdempotencyRecord:
        value = decode(data)
        return cls(
            fingerprint=str(value["fingerprint"]),
            completed=bool(value["completed"]),
            status_code=int(value["status_code"]),
            body=str(value["body"]),
            headers=tuple((str(name), str(text)) for name, text in value["headers"]),
        )


class IdempotencyStore(Protocol):
    name: str

    async def claim(self, key: str, fingerprint: str, *, lease_s: float) -> IdempotencyRecord | None:
        """Claim `key` for `lease_s` seconds: None when this call got it, else the record already there."""
        ...

    async def complete(self, key: str, record: IdempotencyRecord, *, ttl_s: int) -> None:
        """Replace the claim with the final record, kept `ttl_s` seconds."""
        ...

    async def release(self, key: str) -> None:
        """Drop the claim, so a retry runs the request again (after a 5xx, a 429)."""
        ...


class MemoryIdempotencyStore:
    """Per execution environment: enough for `make run` and one instance; shared backends go fleet-wide."""

    name = "memory"

    def __init__(self, *, max_records: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._records: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        self._max_records = max_records
        self._clock = clock

    async def claim(self, key: str, fingerprint: str, *, lease_s: float) -> IdempotencyRecord | None:
        now = self._clock()
        with self._lock:
            found = self._records.get(key)
            if found is not None and found[1] > now:
                return IdempotencyRecord.from_bytes(found[0])
            self._records[key] = (IdempotencyRecord(fingerprint).to_bytes(), now + lease_s)
            if len(self._records) > self._max_records:
                self._evict(now)
        return None

    async def complete(self, key: str, record: IdempotencyRecord, *, ttl_s: int) -> None:
        with self._lock:
            self._records[key] = (record.to_bytes(), self._clock() + ttl_s)

    async def release(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def _evict(self, now: float) -> None:
        for stale in [k for k, (_, expires_at) in self._records.items() if expires_at <= now]:
            del self._records[stale]
        while len(self._records) > self._max_records:  # oldest first: dicts keep insertion order
            del self._records[next(iter(self._records))]
