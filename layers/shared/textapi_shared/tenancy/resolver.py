"""Key records as the access gate finds them: by the hash of a presented secret, through an in-process
cache of at most `KEY_CACHE_SECONDS`, so a warm key costs no store round trip and a change to a record
(revoked, disabled, new limits) reaches every instance within that time. Unknown hashes are cached too
(bounded), so a stream of made-up keys cannot make every request a store read."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.tenancy.key_store import KeyStore
    from textapi_shared.tenancy.records import KeyRecord


class KeyResolver:
    def __init__(
        self,
        store: KeyStore,
        *,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, KeyRecord | None]] = OrderedDict()

    async def by_secret(self, secret_hash: str) -> KeyRecord | None:
        """The record holding this secret (raises when the store cannot be read and nothing fresh is
        known)."""
        return await self._cached(f"secret:{secret_hash}", lambda: self.store.find(secret_hash))

    async def by_id(self, key_id: str) -> KeyRecord | None:
        return await self._cached(f"id:{key_id}", lambda: self.store.get(key_id))

    def forget(self, key_id: str) -> None:
        """Drop what this instance knows of a key (after its admin API changed it here)."""
        for name in [name for name, (_, record) in self._cache.items() if record and record.key_id == key_id]:
            del self._cache[name]

    async def _cached(self, name: str, read: Callable) -> KeyRecord | None:
        now = self._clock()
        found = self._cache.get(name)
        if found is not None and now < found[0]:
            return found[1]
        record = await read()
        self._cache[name] = (now + self._ttl_s, record)
        self._cache.move_to_end(name)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return record
