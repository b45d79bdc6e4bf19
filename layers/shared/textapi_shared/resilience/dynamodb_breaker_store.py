"""Circuit-breaker state as items of the cache table (DynamoDB): fleet-wide breakers.

Items: `pk = {prefix}breaker#{name}` (open_until, opened_at, failures, failures_until, probe_owner,
probe_until) and `pk = {prefix}breaker-stats#{name}` (call statistics), each with the table's `ttl`
attribute so abandoned items are removed. Opening and the probe election are conditional writes, so
two instances can never both open a breaker or both probe it. boto3 is synchronous: every call runs
in a worker thread, and only on failures, transitions and the periodic sync.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from textapi_shared.aws import aws_error_code
from textapi_shared.resilience.breaker_store import STAT_FIELDS, SharedState

if TYPE_CHECKING:
    from collections.abc import Callable

_NAMES = {
    "#ou": "open_until",
    "#oa": "opened_at",
    "#f": "failures",
    "#fu": "failures_until",
    "#po": "probe_owner",
    "#pu": "probe_until",
    "#ttl": "ttl",
}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(float(value)) if not float(value).is_integer() else str(int(value))}


def _names(expression: str) -> dict[str, str]:
    return {token: _NAMES[token] for token in set(re.findall(r"#\w+", expression))}


def _state(item: dict[str, Any] | None) -> SharedState:
    item = item or {}

    def number(key: str) -> float:
        return float(item[key]["N"]) if key in item else 0.0

    return SharedState(
        open_until=number("open_until"),
        opened_at=number("opened_at"),
        failures=int(number("failures")),
        probe_owner=item.get("probe_owner", {}).get("S", ""),
        probe_until=number("probe_until"),
    )


class DynamoDBBreakerStore:
    name = "dynamodb"
    shared = True

    def __init__(self, client: Any, table_name: str, *, prefix: str = "", item_ttl_s: int = 86_400) -> None:
        """`client`: a low-level boto3 DynamoDB client, or a function building it on first use (boto3
        then loads only when the store is first needed, not at cold start)."""
        self._given = client
        self._built: Any | None = client if hasattr(client, "update_item") else None
        self._table = table_name
        self._prefix = prefix
        self._ttl = item_ttl_s

    @property
    def _client(self) -> Any:
        if self._built is None:
            self._built = self._given()
        return self._built

    def _key(self, name: str) -> dict[str, Any]:
        return {"pk": {"S": f"{self._prefix}breaker#{name}"}}

    def _stats_key(self, name: str) -> dict[str, Any]:
        return {"pk": {"S": f"{self._prefix}breaker-stats#{name}"}}

    def _expiry(self) -> dict[str, str]:
        return _n(int(time.time()) + self._ttl)  # garbage collection only: real time, not the breaker clock

    async def _run(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, TableName=self._table, **kwargs)

    async def _update(self, name: str, expression: str, values: dict[str, Any], condition: str | None = None):
        """ALL_NEW attributes, or None when `condition` failed."""
        kwargs: dict[str, Any] = {
            "Key": self._key(name),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": _names(f"{expression} {condition or ''}"),
            "ReturnValues": "ALL_NEW",
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            response = await self._run(self._client.update_item, **kwargs)
        except Exception as exc:
            if aws_error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return response.get("Attributes")

    async def get(self, name: str) -> SharedState:
        response = await self._run(self._client.get_item, Key=self._key(name), ConsistentRead=True)
        return _state(response.get("Item"))

    async def add_failure(self, name: str, *, now: float, window_s: float) -> SharedState:
        values = {
            ":one": _n(1),
            ":zero": _n(0),
            ":fu": _n(now + window_s),
            ":now": _n(now),
            ":ttl": self._expiry(),
        }
        item = await self._update(
            name,
            "SET #f = if_not_exists(#f, :zero) + :one, #fu = :fu, #ttl = :ttl",
            values,
            "attribute_not_exists(#fu) OR #fu > :now",
        )
        if item is None:  # the previous failures are older than the window: start again at 1
            del values[":zero"], values[":now"]
            item = await self._update(name, "SET #f = :one, #fu = :fu, #ttl = :ttl", values)
        return _state(item)

    async def open(self, name: str, *, now: float, open_until: float) -> tuple[bool, SharedState]:
        item = await self._update(
            name,
            "SET #ou = :ou, #oa = :now, #f = :zero, #ttl = :ttl REMOVE #po, #pu, #fu",
            {":ou": _n(open_until), ":now": _n(now), ":zero": _n(0), ":ttl": self._expiry()},
            "attribute_not_exists(#ou) OR #ou <= :now",
        )
        if item is None:
            return False, await self.get(name)
        return True, _state(item)

    async def acquire_probe(
        self, name: str, *, owner: str, now: float, lease_until: float
    ) -> tuple[bool, SharedState]:
        item = await self._update(
            name,
            "SET #po = :owner, #pu = :lease",
            {":owner": {"S": owner}, ":lease": _n(lease_until), ":now": _n(now), ":zero": _n(0)},
            "#ou > :zero AND #ou <= :now AND (attribute_not_exists(#pu) OR #pu <= :now)",
        )
        if item is None:
            return False, await self.get(name)
        return True, _state(item)

    async def release_probe(self, name: str, *, owner: str) -> None:
        await self._update(name, "REMOVE #po, #pu", {":owner": {"S": owner}}, "#po = :owner")

    async def close(self, name: str) -> None:
        await self._run(self._client.delete_item, Key=self._key(name))

    async def clear_failures(self, name: str) -> None:
        await self._update(name, "REMOVE #f, #fu", {}, "attribute_exists(pk)")

    async def sync(self, name: str, stats: dict[str, int]) -> SharedState:
        if stats:
            additions = ", ".join(f"#s{i} :s{i}" for i in range(len(stats)))
            await self._run(
                self._client.update_item,
                Key=self._stats_key(name),
                UpdateExpression=f"ADD {additions} SET #ttl = :ttl",
                ExpressionAttributeNames={"#ttl": "ttl", **{f"#s{i}": f for i, f in enumerate(stats)}},
                ExpressionAttributeValues={
                    ":ttl": _n(int(time.time()) + 30 * 86_400),
                    **{f":s{i}": _n(v) for i, v in enumerate(stats.values())},
                },
            )
        return await self.get(name)

    async def read_stats(self, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
        response = await asyncio.to_thread(
            self._client.batch_get_item,
            RequestItems={self._table: {"Keys": [self._stats_key(n) for n in names], "ConsistentRead": True}},
        )
        by_key = {item["pk"]["S"]: item for item in response.get("Responses", {}).get(self._table, [])}
        result = {}
        for name in names:
            item = by_key.get(self._stats_key(name)["pk"]["S"], {})
            result[name] = {f: int(float(item[f]["N"])) if f in item else 0 for f in STAT_FIELDS}
        return result

    async def reset_stats(self, names: tuple[str, ...]) -> None:
        await asyncio.gather(*(self._run(self._client.delete_item, Key=self._stats_key(n)) for n in names))
