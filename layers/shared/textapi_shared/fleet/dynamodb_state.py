"""The fleet state in DynamoDB: counters, single-flight leases and sliding-window budgets, as items of
a table keyed by `pk` (the cache table, beside the cache's entries).

- Counters: `{namespace}counter#{key}`, moved by `UpdateItem ADD` (never BatchWriteItem, which only puts
  whole items), several at once concurrently; `ttl` set on the first write.
- Leases: `{namespace}lease#{key}` (owner, `lease_until`), taken by a PutItem conditional on there being
  none or a lapsed one, dropped by a DeleteItem conditional on the owner.
- Budgets: DynamoDB cannot keep a log of spends and decide on it in one atomic step, so a window is
  counted in sixths: `{namespace}window#{key}#{n}` holds the units admitted in the n-th sixth. A spend
  is one UpdateItem ADD to the current sixth, conditional on the count leaving room beside the five and
  a bit before it; those are past, so they no longer change and each instance reads them once
  (BatchGetItem) and keeps them. The partial oldest sixth is counted whole: never more than the limit
  in any window, and at most one sixth's spends fewer (exact up to the instances' clock skew).

boto3's client is synchronous: every call runs in a worker thread (`aws.DynamoDBTable`).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from textapi_shared.aws import DynamoDBTable, aws_error_code
from textapi_shared.fleet.protocol import counts_apply, ttl_for
from textapi_shared.fleet.windows import Admission, settle_times

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textapi_shared.config import SharedSettings
    from textapi_shared.fleet.protocol import Watch

CONDITION_FAILED = "ConditionalCheckFailedException"
WINDOW_PARTS = 6  # a budget's window is counted in sixths
_COUNT = {"#count": "count"}
_MAX_KEYS = 10_000  # budgets whose ended sixths one instance keeps


class DynamoDBFleetState:
    name = "dynamodb"

    def __init__(
        self,
        settings: SharedSettings,
        *,
        client: Any | None = None,
        table_name: str | None = None,
        namespace: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """On `table_name` (default: the cache table), through `client` or the environment's own."""
        self.table_name = table_name or settings.cache_table_name
        self._table = DynamoDBTable(settings, self.table_name, client)
        self._namespace = namespace
        self._clock = clock
        self._past: dict[str, dict[int, int]] = {}  # budget key -> sixth -> units (sixths that ended)

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        return await self._table.call(method, **kwargs)

    async def _batch_get(self, pks: list[str], *, projection: str, names: dict[str, str]) -> dict[str, Any]:
        return await self._table.items_by_pk(pks, projection=projection, names=names)

    # -- single-flight leases

    def _lease_pk(self, key: str) -> dict[str, Any]:
        return {"S": f"{self._namespace}lease#{key}"}

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        now = self._clock()
        item = {
            "pk": self._lease_pk(key),
            "owner": {"S": owner},
            "lease_until": {"N": repr(now + ttl_s)},
            "ttl": {"N": str(math.ceil(now + ttl_s) + 60)},  # the table's sweeper removes abandoned ones
        }
        try:
            await self._call(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except Exception as exc:
            if aws_error_code(exc) != CONDITION_FAILED:
                raise
            return False
        return True

    async def release_lease(self, key: str, owner: str) -> None:
        try:
            await self._call(
                "delete_item",
                Key={"pk": self._lease_pk(key)},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except Exception as exc:
            if aws_error_code(exc) != CONDITION_FAILED:  # lapsed and taken by another: theirs now
                raise

    # -- counters

    def counter_pk(self, key: str) -> str:
        return f"{self._namespace}counter#{key}"

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        """ADD, with `ttl` set on first write; an expired item DynamoDB has not deleted yet restarts at 0."""
        names = {"#count": "count", "#ttl": "ttl"}
        for _ in range(3):
            now = self._clock()
            values = {
                ":n": {"N": str(amount)},
                ":ttl": {"N": str(math.ceil(now + ttl_s))},
                ":now": {"N": repr(now)},
            }
            try:
                response = await self._call(
                    "update_item",
                    Key={"pk": {"S": self.counter_pk(key)}},
                    UpdateExpression="ADD #count :n SET #ttl = if_not_exists(#ttl, :ttl)",
                    ConditionExpression="attribute_not_exists(#ttl) OR #ttl > :now",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_NEW",
                )
                return int(response["Attributes"]["count"]["N"])
            except Exception as exc:
                if aws_error_code(exc) != CONDITION_FAILED:
                    raise
            try:
                await self._call(
                    "update_item",
                    Key={"pk": {"S": self.counter_pk(key)}},
                    UpdateExpression="SET #count = :n, #ttl = :ttl",
                    ConditionExpression="#ttl <= :now",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
                return amount
            except Exception as exc:  # another instance restarted it first: add to theirs
                if aws_error_code(exc) != CONDITION_FAILED:
                    raise
        raise RuntimeError(f"counter {key!r} kept changing under concurrent resets")

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> None:
        """Concurrent UpdateItem ADDs (a transaction would conflict with other writers of the same keys)."""
        await asyncio.gather(
            *(self.incr(key, amount, ttl_for(ttl_s, key)) for key, amount in amounts.items())
        )

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        if not keys:
            return {}
        found = await self._batch_get(
            [self.counter_pk(key) for key in keys],
            projection="pk, #count, #ttl",
            names={"#count": "count", "#ttl": "ttl"},
        )
        now = self._clock()
        counts: dict[str, int] = {}
        for key in keys:
            item = found.get(self.counter_pk(key))
            live = item is not None and float(item.get("ttl", {"N": "inf"})["N"]) > now
            counts[key] = int(item["count"]["N"]) if live and "count" in item else 0
        return counts

    # -- sliding-window budgets

    def _part_pk(self, key: str, part: int) -> str:
        return f"{self._namespace}window#{key}#{part}"

    async def admit(
        self,
        key: str,
        units: int,
        *,
        limit: int,
        window_s: float,
        now: float,
        counts: Mapping[str, int] | None = None,
        ttls: Mapping[str, int] | None = None,
        watch: Watch | None = None,
    ) -> Admission:
        """One conditional ADD to the current sixth (a BatchGetItem first when sixths have ended since
        this instance last looked), the watched counter read at the same time (one call cannot read
        another item); the counters' ADDs follow an admitted spend, all at once."""
        if watch is None:
            admission = await self._spend(key, units, limit=limit, window_s=window_s, now=now)
        else:
            admission, read = await asyncio.gather(
                self._spend(key, units, limit=limit, window_s=window_s, now=now),
                self.read_counters([watch.key]),
            )
            admission = admission._replace(watched=read[watch.key])
        if counts and counts_apply(admission.admitted, watch, admission.watched):
            await self.incr_many(counts, ttls or {})
        return admission

    async def _spend(self, key: str, units: int, *, limit: int, window_s: float, now: float) -> Admission:
        size = window_s / WINDOW_PARTS
        current = math.floor(now / size)
        past = await self._past_parts(key, current, size)
        spent = sum(past.values())
        room = limit - spent - units  # what the current sixth may already hold for this spend to fit
        pk = self._part_pk(key, current)
        admitted, in_current = False, 0
        if room >= 0:
            try:
                response = await self._call(
                    "update_item",
                    Key={"pk": {"S": pk}},
                    UpdateExpression="ADD #count :units SET #ttl = if_not_exists(#ttl, :ttl)",
                    ConditionExpression="attribute_not_exists(#count) OR #count <= :room",
                    ExpressionAttributeNames={**_COUNT, "#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":units": {"N": str(units)},
                        ":room": {"N": str(room)},
                        ":ttl": {"N": str(math.ceil((current + 1) * size + window_s) + 60)},
                    },
                    ReturnValues="UPDATED_NEW",
                )
                admitted, in_current = True, int(response["Attributes"]["count"]["N"])
            except Exception as exc:
                if aws_error_code(exc) != CONDITION_FAILED:
                    raise
        if not admitted:
            item = (await self._call("get_item", Key={"pk": {"S": pk}}, ConsistentRead=True)).get("Item")
            in_current = int(item["count"]["N"]) if item and "count" in item else 0
        # Each sixth's units leave the window when the sixth's end is a window ago.
        parts = [((part + 1) * size, spent_in) for part, spent_in in sorted(past.items()) if spent_in]
        if in_current:
            parts.append(((current + 1) * size, in_current))
        used = spent + in_current
        reset_at, retry_at = settle_times(parts, used, 0 if admitted else units, limit, window_s, now)
        return Admission(admitted, used, reset_at, retry_at)

    async def _past_parts(self, key: str, current: int, size: float) -> dict[int, int]:
        """The units of the sixths before the current one that the window still touches."""
        wanted = range(current - WINDOW_PARTS, current)
        if key not in self._past and len(self._past) >= _MAX_KEYS:
            self._past.clear()  # only a cache: what is dropped is read again
        known = self._past.setdefault(key, {})
        for part in [p for p in known if p < wanted.start]:
            del known[part]
        missing = [part for part in wanted if part not in known]
        if missing:
            pks = {self._part_pk(key, part): part for part in missing}
            found = await self._batch_get(list(pks), projection="pk, #count", names=_COUNT)
            for pk, part in pks.items():
                item = found.get(pk)
                known[part] = int(item["count"]["N"]) if item and "count" in item else 0
        return {part: known[part] for part in wanted}
