"""Idempotency records in the cache table: item `idempotency#<key>`, claimed by a conditional PutItem.

Attributes: `record` (B, codec bytes), `expires_at` (N, epoch seconds: the lease for a claim, the
retention for a completed record) and `ttl` (the table's TTL attribute). DynamoDB deletes expired
items late, so the claim's condition treats an expired record as absent and reads check `expires_at`.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from textapi_shared.aws import DynamoDBTable, aws_error_code
from textapi_shared.idempotency.store import IdempotencyRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings

KEY_PREFIX = "idempotency#"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_CLAIM_ATTEMPTS = 3


class DynamoDBIdempotencyStore:
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
        self.table_name = table_name or settings.cache_table_name
        self._table = DynamoDBTable(settings, self.table_name, client)
        self._namespace = namespace
        self._clock = clock

    def physical_key(self, key: str) -> str:
        return f"{self._namespace}{KEY_PREFIX}{key}"

    def _item(self, key: str, record: IdempotencyRecord, expires_at: float) -> dict[str, Any]:
        return {
            "pk": {"S": self.physical_key(key)},
            "record": {"B": record.to_bytes()},
            "expires_at": {"N": repr(expires_at)},
            "ttl": {"N": str(math.ceil(expires_at))},
        }

    async def claim(self, key: str, fingerprint: str, *, lease_s: float) -> IdempotencyRecord | None:
        for _ in range(_CLAIM_ATTEMPTS):
            now = self._clock()
            try:
                await self._table.call(
                    "put_item",
                    Item=self._item(key, IdempotencyRecord(fingerprint), now + lease_s),
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues={":now": {"N": repr(now)}},
                )
                return None
            except Exception as exc:
                if aws_error_code(exc) != _CONDITION_FAILED:
                    raise
            found = await self._table.call(
                "get_item", Key={"pk": {"S": self.physical_key(key)}}, ConsistentRead=True
            )
            item = found.get("Item")
            if item is not None and float(item["expires_at"]["N"]) > self._clock():
                return IdempotencyRecord.from_bytes(item["record"]["B"])
            # Released or expired between the two calls: claim again.
        raise RuntimeError(f"idempotency key {key!r} kept changing while being claimed")

    async def complete(self, key: str, record: IdempotencyRecord, *, ttl_s: int) -> None:
        await self._table.call("put_item", Item=self._item(key, record, self._clock() + ttl_s))

    async def release(self, key: str) -> None:
        await self._table.call("delete_item", Key={"pk": {"S": self.physical_key(key)}})
