"""The key-record store port and its in-memory twin (`make run`, tests: one execution environment).

Records are written whole and conditionally on the version that was read (`updated_at`), so two admins
changing one key at once cannot lose either change silently: the second gets a conflict. A record is
found by its id (admin API) or by the hash of a presented secret (authentication).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from textapi_shared.errors import ApiError, ServiceUnavailableError
from textapi_shared.paging import page_position, page_token

if TYPE_CHECKING:
    from textapi_shared.tenancy.records import KeyRecord


class KeyConflictError(ApiError):
    """The record changed since it was read (another admin's change): read it again and retry."""

    status_code = 409
    error_code = "CONFLICT"
    default_message = "The key record changed meanwhile; read it again and retry."


class KeyStoreUnavailableError(ServiceUnavailableError):
    """The store of key records and billed usage cannot be reached: a generic 503 (never the store's name;
    the vendor's error is its cause)."""

    default_message = "Key records and usage cannot be read right now; retry shortly."

    def __init__(self) -> None:
        super().__init__(retry_after=5)


class KeyStore(Protocol):
    name: str

    async def create(self, record: KeyRecord) -> None:
        """Store a new record (its id and secret hash are new)."""
        ...

    async def get(self, key_id: str) -> KeyRecord | None: ...

    async def find(self, secret_hash: str) -> KeyRecord | None:
        """The record whose current or previous secret has this hash (whether it is still accepted is the
        record's to say: `KeyRecord.accepts`)."""
        ...

    async def save(self, record: KeyRecord, *, expected_updated_at: float) -> None:
        """Replace the record if it is still the version read (`KeyConflictError` otherwise); a new secret
        hash becomes findable."""
        ...

    async def list(
        self, *, tenant: str | None, limit: int, next_token: str | None
    ) -> tuple[list[KeyRecord], str | None]:
        """A page of records (of `tenant` when given) and the token of the next page (None on the last). The
        order is the same on every listing, but each backend's own: memory lists oldest first, DynamoDB in
        its table's order (a Scan)."""
        ...


class MemoryKeyStore:
    name = "memory"

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._by_hash: dict[str, str] = {}
        self._lock = threading.Lock()

    async def create(self, record: KeyRecord) -> None:
        with self._lock:
            if record.key_id in self._records:
                raise KeyConflictError("A key with this id exists already.")
            self._records[record.key_id] = record
            self._by_hash[record.secret_hash] = record.key_id

    async def get(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    async def find(self, secret_hash: str) -> KeyRecord | None:
        key_id = self._by_hash.get(secret_hash)
        return self._records.get(key_id) if key_id is not None else None

    async def save(self, record: KeyRecord, *, expected_updated_at: float) -> None:
        with self._lock:
            current = self._records.get(record.key_id)
            if current is None or current.updated_at != expected_updated_at:
                raise KeyConflictError()
            self._records[record.key_id] = record
            self._by_hash[record.secret_hash] = record.key_id

    async def list(
        self, *, tenant: str | None, limit: int, next_token: str | None
    ) -> tuple[list[KeyRecord], str | None]:
        chosen = sorted(
            (r for r in self._records.values() if tenant is None or r.tenant == tenant),
            key=lambda r: (r.created_at, r.key_id),
        )
        if next_token:
            after = page_position(next_token, {"created_at": (int, float), "key_id": str})
            mark = (float(after["created_at"]), str(after["key_id"]))  # type: ignore[arg-type]
            chosen = [r for r in chosen if (r.created_at, r.key_id) > mark]
        page = chosen[:limit]
        more = len(chosen) > limit
        token = page_token({"created_at": page[-1].created_at, "key_id": page[-1].key_id}) if more else None
        return page, token
