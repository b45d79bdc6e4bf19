"""DynamoDB backend: one table keyed by `pk`, namespace versions for invalidation, expiry checked on read.

Item layout: `pk` (S) = `{namespace}v{global}.{operation_version}#{key}`, `value` (B, codec bytes),
`stored_at`/`expires_at` (N, logical), `ttl` (N, epoch seconds = expires_at + grace: the table's TTL
attribute), `operation` (S), `cache_key` (S, the logical key: a hash, never text). DynamoDB deletes
expired items up to days late, so reads check `ttl` themselves.

Invalidating everything or one operation bumps a version number kept in `{namespace}meta#namespace`
(or `...#{operation}`): old items become unreachable at once and age out through TTL. Each instance
caches the versions for `version_cache_s`, so other instances see a bump within that time and a get
usually costs one GetItem. Pattern invalidation is a Scan bounded by `scan_limit` items (a table
larger than that is reported as partially invalidated): use operation or everything at scale.

Counters, leases and budgets are items of the same table, kept by the fleet state
(`fleet.dynamodb_state`), never by the cache.
boto3's client is synchronous: every call runs in a worker thread.
"""

from __future__ import annotations

import fnmatch
import math
import time
from typing import TYPE_CHECKING, Any

from textapi_shared.aws import DynamoDBTable, aws_error_code
from textapi_shared.cache.codec import decode, encode
from textapi_shared.cache.keys import operation_of
from textapi_shared.cache.protocol import (
    CacheEntry,
    CacheStatus,
    InvalidationResult,
    StoredSize,
    require_invalidation_target,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings

MAX_ITEM_VALUE_BYTES = 350_000  # DynamoDB's item limit is 400 KB, attribute names included
_META = "meta#namespace"
_BATCH_WRITE_ITEMS = 25


class DynamoDBCache:
    name = "dynamodb"

    def __init__(
        self,
        settings: SharedSettings,
        *,
        client: Any | None = None,
        table_name: str | None = None,
        namespace: str = "",
        clock: Callable[[], float] = time.time,
        version_cache_s: float = 5.0,
        max_item_bytes: int = MAX_ITEM_VALUE_BYTES,
        scan_limit: int = 10_000,
        on_oversize: Callable[[str, int], None] | None = None,
    ) -> None:
        self.table_name = table_name or settings.cache_table_name
        self._table = DynamoDBTable(settings, self.table_name, client)
        self._namespace = namespace
        self._clock = clock
        self._grace = settings.cache_stale_grace_seconds
        self._threshold = settings.cache_compression_threshold
        self._version_cache_s = version_cache_s
        self._max_item_bytes = max_item_bytes
        self._scan_limit = scan_limit
        self._on_oversize = on_oversize
        self._versions: dict[str, tuple[int, float]] = {}
        self.oversize_skips = 0

    # -- keys and namespace versions

    def _meta_pk(self, operation: str | None) -> str:
        return f"{self._namespace}{_META}" + (f"#{operation}" if operation else "")

    async def physical_key(self, key: str) -> str:
        global_version, operation_version = await self._namespace_versions(operation_of(key))
        return f"{self._namespace}v{global_version}.{operation_version}#{key}"

    async def _namespace_versions(self, operation: str | None) -> tuple[int, int]:
        names = [self._meta_pk(None)] + ([self._meta_pk(operation)] if operation else [])
        now = time.monotonic()
        stale = [n for n in names if now - self._versions.get(n, (0, -math.inf))[1] >= self._version_cache_s]
        if stale:
            found = await self._batch_get(stale, projection="pk, #version", names={"#version": "version"})
            for name in stale:
                item = found.get(name)
                self._versions[name] = (int(item["version"]["N"]) if item else 0, now)
        return self._versions[names[0]][0], self._versions[names[-1]][0] if operation else 0

    async def _batch_get(self, pks: list[str], *, projection: str, names: dict[str, str]) -> dict[str, Any]:
        return await self._table.items_by_pk(pks, projection=projection, names=names)

    def forget_versions(self) -> None:
        """Read the namespace versions again on the next call (the fleet's cache generation moved)."""
        self._versions.clear()

    # -- entries

    async def get(self, key: str) -> CacheEntry | None:
        response = await self._table.call("get_item", Key={"pk": {"S": await self.physical_key(key)}})
        item = response.get("Item")
        if item is None:
            return None
        now = self._clock()
        expires_at = float(item["expires_at"]["N"])
        if now >= float(item["ttl"]["N"]) or now >= expires_at + self._grace:
            return None
        return CacheEntry(
            decode(item["value"]["B"]), float(item["stored_at"]["N"]), expires_at, checked_at=now
        )

    async def set(self, key: str, value: dict[str, Any], *, ttl_s: int) -> StoredSize | None:
        encoded = encode(value, threshold=self._threshold)
        operation = operation_of(key)
        if encoded.stored_bytes > self._max_item_bytes:
            self.oversize_skips += 1
            if self._on_oversize is not None:
                self._on_oversize(operation or "", encoded.stored_bytes)
            return None
        now = self._clock()
        item: dict[str, Any] = {
            "pk": {"S": await self.physical_key(key)},
            "value": {"B": encoded.data},
            "stored_at": {"N": repr(now)},
            "expires_at": {"N": repr(now + ttl_s)},
            "ttl": {"N": str(math.ceil(now + ttl_s + self._grace))},
            "cache_key": {"S": key},
        }
        if operation:
            item["operation"] = {"S": operation}
        await self._table.call("put_item", Item=item)
        return StoredSize(encoded.raw_bytes, encoded.stored_bytes)

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        require_invalidation_target(pattern, operation, everything)
        if everything or pattern is None:
            return await self._bump(None if everything else operation)
        return await self._scan_delete(pattern, operation)

    async def _bump(self, operation: str | None) -> InvalidationResult:
        meta = self._meta_pk(operation)
        response = await self._table.call(
            "update_item",
            Key={"pk": {"S": meta}},
            UpdateExpression="ADD #version :one",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        version = int(response["Attributes"]["version"]["N"])
        self._versions[meta] = (version, time.monotonic())
        scope = f"operation {operation!r}" if operation else "global"
        return InvalidationResult(
            None,
            "namespace_version_bump",
            f"{scope} namespace version is now {version}; other instances follow within "
            f"{self._version_cache_s:g} s, old items expire through the table's TTL",
        )

    async def _scan_delete(self, pattern: str, operation: str | None) -> InvalidationResult:
        global_version, _ = await self._namespace_versions(None)
        kwargs: dict[str, Any] = {
            "ProjectionExpression": "pk, #key, #op",
            "FilterExpression": "begins_with(pk, :prefix)",
            "ExpressionAttributeNames": {"#key": "cache_key", "#op": "operation"},
            "ExpressionAttributeValues": {":prefix": {"S": f"{self._namespace}v{global_version}."}},
            "Limit": 1000,
        }
        scanned = removed = 0
        while True:
            page = await self._table.call("scan", **kwargs)
            scanned += page.get("ScannedCount", 0)
            doomed = [
                item["pk"]["S"]
                for item in page.get("Items", [])
                if await self._selects(item, pattern, operation)
            ]
            removed += await self._delete(doomed)
            if "LastEvaluatedKey" not in page:
                detail = f"removed {removed} items matching {pattern!r} ({scanned} scanned)"
                return InvalidationResult(removed, "scan_delete", detail)
            if scanned >= self._scan_limit:
                detail = f"removed {removed} items; stopped after scanning {scanned} (limit), rest untouched"
                return InvalidationResult(removed, "scan_delete_partial", detail)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _selects(self, item: dict[str, Any], pattern: str, operation: str | None) -> bool:
        key = item.get("cache_key", {}).get("S", "")
        if not fnmatch.fnmatchcase(key, pattern) or operation not in (None, operation_of(key)):
            return False
        return item["pk"]["S"] == await self.physical_key(key)  # not already invalidated by a bump

    async def _delete(self, pks: list[str]) -> int:
        for start in range(0, len(pks), _BATCH_WRITE_ITEMS):
            requests = [
                {"DeleteRequest": {"Key": {"pk": {"S": pk}}}}
                for pk in pks[start : start + _BATCH_WRITE_ITEMS]
            ]
            await self._table.call_batch("batch_write_item", {self.table_name: requests})
        return len(pks)

    async def ping(self) -> float:
        started = time.perf_counter()
        await self._table.call("get_item", Key={"pk": {"S": self._meta_pk(None)}})
        return round((time.perf_counter() - started) * 1000, 2)

    async def status(self) -> CacheStatus:
        """A timed GetItem as the ping; DescribeTable's item count and size (refreshed ~6-hourly)."""
        try:
            started = time.perf_counter()
            await self._table.call("get_item", Key={"pk": {"S": self._meta_pk(None)}})
            latency_ms = round((time.perf_counter() - started) * 1000, 2)
            table = (await self._table.call("describe_table"))["Table"]
        except Exception as exc:  # status reports a failure, it never raises it
            code = aws_error_code(exc)
            detail = f"unreachable: {type(exc).__name__}" + (f" ({code})" if code else "")
            return CacheStatus(self.name, False, None, None, None, f"table {self.table_name}: {detail}")
        items, size = table.get("ItemCount"), table.get("TableSizeBytes")
        return CacheStatus(
            backend=self.name,
            connected=True,
            latency_ms=latency_ms,
            entries=items,
            memory_bytes=None,
            detail=(
                f"table {self.table_name} {table.get('TableStatus', '?')}: ~{items} items, ~{size} bytes "
                f"(approximate); {self.oversize_skips} oversize values skipped"
            ),
        )
