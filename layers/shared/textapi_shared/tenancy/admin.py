"""What an operator does with key records (the admin API): create, read, change, disable, rotate with an
overlap, revoke. Changes are read-modify-write on one record, retried when another admin changed it in
between, so concurrent changes are never lost."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textapi_shared.errors import InputValidationError, NotFoundError
from textapi_shared.tenancy.key_store import KeyConflictError
from textapi_shared.tenancy.records import KeyRecord, KeyStatus, new_api_key, new_key_id, secret_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textapi_shared.tenancy.resolver import KeyResolver

_ATTEMPTS = 3


class KeyAdmin:
    def __init__(self, keys: KeyResolver, *, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._store = keys.store
        self._clock = clock

    async def create(self, settings: Mapping[str, Any]) -> tuple[KeyRecord, str]:
        """A new active key with `settings` (the record's settable fields); its secret, shown once."""
        now = self._clock()
        api_key = new_api_key()
        record = KeyRecord(
            key_id=new_key_id(), created_at=now, updated_at=now, secret_hash=secret_hash(api_key), **settings
        )
        self._check(record, now)
        await self._store.create(record)
        return record, api_key

    async def get(self, key_id: str) -> KeyRecord:
        record = await self._store.get(key_id)
        if record is None:
            raise NotFoundError(f"No key {key_id[:40]!r}.")
        return record

    async def update(self, key_id: str, changes: Mapping[str, Any]) -> KeyRecord:
        """Apply `changes` (settable fields, `status` active or disabled); a revoked key stays revoked."""

        def change(record: KeyRecord, now: float) -> KeyRecord:
            if record.status is KeyStatus.REVOKED:
                raise InputValidationError.for_field(
                    "status", "a revoked key cannot be changed: create a new one"
                )
            return replace(record, **changes, updated_at=now)

        return await self._change(key_id, change)

    async def rotate(self, key_id: str, grace_s: float) -> tuple[KeyRecord, str]:
        """A new secret; the current one keeps working for `grace_s` seconds."""
        issued: list[str] = []

        def change(record: KeyRecord, now: float) -> KeyRecord:
            if record.status is not KeyStatus.ACTIVE:
                raise InputValidationError.for_field(
                    "key_id",
                    f"only an active key can be rotated; this one is {record.status}",
                    location="path",
                )
            rotated, api_key = record.rotated(now, grace_s)
            issued[:] = [api_key]
            return rotated

        record = await self._change(key_id, change)
        return record, issued[0]

    async def revoke(self, key_id: str) -> KeyRecord:
        """Revoked for good: every instance refuses it within `KEY_CACHE_SECONDS`."""
        return await self._change(
            key_id, lambda record, now: replace(record, status=KeyStatus.REVOKED, updated_at=now)
        )

    async def _change(self, key_id: str, change: Callable[[KeyRecord, float], KeyRecord]) -> KeyRecord:
        for attempt in range(_ATTEMPTS):
            current = await self.get(key_id)
            now = max(self._clock(), current.updated_at + 1e-6)  # every version differs from the last
            record = change(current, now)
            self._check(record, now, creating=False)
            try:
                await self._store.save(record, expected_updated_at=current.updated_at)
            except KeyConflictError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            self._keys.forget(key_id)
            return record
        raise AssertionError("unreachable")

    @staticmethod
    def _check(record: KeyRecord, now: float, *, creating: bool = True) -> None:
        if creating and record.expires_at is not None and record.expires_at <= now:
            raise InputValidationError.for_field("expires_at", "must be in the future")
