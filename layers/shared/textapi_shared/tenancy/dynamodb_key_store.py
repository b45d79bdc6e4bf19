"""Key records in DynamoDB (`KEYS_TABLE_NAME`, keys `pk`/`sk`): the record (`pk = key#<id>`, `sk = record`,
the record as JSON in `data`, its tenant beside for filtering) and, per secret ever issued, a pointer
(`pk = secret#<sha256>`, `sk = secret`) to the key's id. A rotation writes the new pointer before the
record that accepts it, so a record never names a secret that cannot be found.

The same table holds billed usage (`dynamodb_usage`). boto3's client is synchronous: every call runs in a
worker thread (`aws.DynamoDBTable`). A call that fails for any reason but a refused condition raises
`KeyStoreUnavailableError` (503): whatever reads or changes a key then answers in the error shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textapi_shared.aws import DynamoDBTable, aws_error_code
from textapi_shared.paging import page_position, page_token
from textapi_shared.tenancy.codec import record_from_json, record_to_json
from textapi_shared.tenancy.key_store import KeyConflictError, KeyStoreUnavailableError

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings
    from textapi_shared.tenancy.records import KeyRecord

_CONDITION_FAILED = "ConditionalCheckFailedException"
_RECORD = "record"


class KeysTable(DynamoDBTable):
    """The keys table, its failures (but a refused condition, which its callers handle) a 503."""

    __slots__ = ()

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return await super().call(method, **kwargs)
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                raise
            raise KeyStoreUnavailableError() from exc


def _record_key(key_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"key#{key_id}"}, "sk": {"S": _RECORD}}


def _pointer_key(secret_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"secret#{secret_hash}"}, "sk": {"S": "secret"}}


def _record_item(record: KeyRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_record_key(record.key_id),
        "data": {"S": record_to_json(record)},
        "updated_at": {"N": repr(record.updated_at)},
    }
    if record.tenant:
        item["tenant"] = {"S": record.tenant}
    return item


class DynamoDBKeyStore:
    name = "dynamodb"

    def __init__(self, settings: SharedSettings, *, client: Any | None = None, table_name: str | None = None):
        self.table_name = table_name or settings.keys_table_name
        self._table = KeysTable(settings, self.table_name, client)

    async def create(self, record: KeyRecord) -> None:
        await self._point(record)
        try:
            await self._table.call(
                "put_item", Item=_record_item(record), ConditionExpression="attribute_not_exists(pk)"
            )
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                raise KeyConflictError("A key with this id exists already.") from exc
            raise

    async def get(self, key_id: str) -> KeyRecord | None:
        item = (await self._table.call("get_item", Key=_record_key(key_id), ConsistentRead=True)).get("Item")
        return record_from_json(item["data"]["S"]) if item else None

    async def find(self, secret_hash: str) -> KeyRecord | None:
        # Consistent: a miss is cached as an unknown key (`KeyResolver`), so a read that lagged behind a
        # create would refuse the new key for KEY_CACHE_SECONDS.
        pointer = (
            await self._table.call("get_item", Key=_pointer_key(secret_hash), ConsistentRead=True)
        ).get("Item")
        return await self.get(pointer["key_id"]["S"]) if pointer else None

    async def save(self, record: KeyRecord, *, expected_updated_at: float) -> None:
        await self._point(record)
        try:
            await self._table.call(
                "put_item",
                Item=_record_item(record),
                ConditionExpression="updated_at = :seen",
                ExpressionAttributeValues={":seen": {"N": repr(expected_updated_at)}},
            )
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                raise KeyConflictError() from exc
            raise

    async def list(
        self, *, tenant: str | None, limit: int, next_token: str | None
    ) -> tuple[list[KeyRecord], str | None]:
        """A Scan, filtered: records in the table's order (not creation order), `limit` a page. The next
        page starts after the last record returned, so none is skipped when a scanned page holds more."""
        values: dict[str, Any] = {":record": {"S": _RECORD}}
        condition = "sk = :record"
        if tenant is not None:
            condition += " AND tenant = :tenant"
            values[":tenant"] = {"S": tenant}
        kwargs: dict[str, Any] = {"FilterExpression": condition, "ExpressionAttributeValues": values}
        if next_token:
            position = page_position(next_token, {"after": str})
            kwargs["ExclusiveStartKey"] = _record_key(str(position["after"]))
        found: list[KeyRecord] = []
        while True:
            page = await self._table.call("scan", **kwargs)
            found.extend(record_from_json(item["data"]["S"]) for item in page.get("Items", []))
            if len(found) > limit or "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if len(found) > limit:
            return found[:limit], page_token({"after": found[limit - 1].key_id})
        return found, None

    async def _point(self, record: KeyRecord) -> None:
        await self._table.call(
            "put_item", Item={**_pointer_key(record.secret_hash), "key_id": {"S": record.key_id}}
        )
