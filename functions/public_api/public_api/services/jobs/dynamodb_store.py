"""Jobs in DynamoDB (`JOBS_TABLE_NAME`, keys `pk`/`sk`, TTL attribute `ttl`).

Three partitions per job: the job row (`pk = job#<id>`, `sk = job`), its item results
(`pk = job#<id>#items`, `sk = item#000042`, the result as codec bytes: JSON, compressed when large)
and its finished groups (`pk = job#<id>#groups`, `sk = group#000004`, their counts), so reading every
group summary never reads a result. Writes that must happen once are conditional puts; counts are
sums of the group rows, never counters (no read-modify-write anywhere). Every row expires with the
job; DynamoDB deletes late, so reads check `expires_at` of the job row. boto3 calls run in worker
threads.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from public_api.services.jobs.records import (
    ACTIVE,
    CANCELLED,
    QUEUED,
    RUNNING,
    GroupSummary,
    ItemRecord,
    JobRecord,
)
from textapi_shared.aws import aws_client, aws_error_code
from textapi_shared.cache.codec import decode, encode

if TYPE_CHECKING:
    from collections.abc import Callable

    from public_api.config import PublicApiSettings

_CONDITION_FAILED = "ConditionalCheckFailedException"
_MAX_RESULT_BYTES = 350_000  # DynamoDB items hold 400 KB, names included
_JOB_SK = "job"
_NAMES = {"#status": "status", "#finished": "finished_at", "#updated": "updated_at", "#done": "groups_done"}


def _pk(job_id: str, part: str = "") -> dict[str, str]:
    return {"S": f"job#{job_id}{part}"}


_ITEMS = "#items"
_GROUPS = "#groups"
_BATCH_GET_KEYS = 100


def _item_sk(index: int) -> str:
    return f"item#{index:06d}"


def _group_sk(group: int) -> str:
    return f"group#{group:06d}"


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _job_from(item: dict[str, Any]) -> JobRecord:
    return JobRecord(
        job_id=item["pk"]["S"].removeprefix("job#"),
        owner=item["owner"]["S"],
        batch_id=item["batch_id"]["S"],
        status=item["status"]["S"],
        total=int(item["total"]["N"]),
        group_count=int(item["group_count"]["N"]),
        created_at=float(item["created_at"]["N"]),
        updated_at=float(item["updated_at"]["N"]),
        expires_at=float(item["expires_at"]["N"]),
        callback_url=item["callback_url"]["S"] if "callback_url" in item else None,
        finished_at=float(item["finished_at"]["N"]) if "finished_at" in item else None,
        groups_done=frozenset(int(g) for g in item.get("groups_done", {}).get("NS", [])),
    )


def _item_from(item: dict[str, Any]) -> ItemRecord:
    result = decode(item["result"]["B"])
    return ItemRecord(
        index=int(item["sk"]["S"].removeprefix("item#")),
        status=item["status"]["S"],
        response=result.get("response"),
        error=result.get("error"),
        error_code=result.get("error_code"),
    )


def _group_from(item: dict[str, Any]) -> GroupSummary:
    return GroupSummary(
        group=int(item["sk"]["S"].removeprefix("group#")),
        size=int(item["size"]["N"]),
        completed=int(item["completed"]["N"]),
        failed=int(item["failed"]["N"]),
        cancelled=int(item["cancelled"]["N"]),
        recorded_at=float(item["recorded_at"]["N"]),
    )


class DynamoDBJobStore:
    def __init__(
        self,
        settings: PublicApiSettings,
        *,
        client: Any | None = None,
        table_name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._injected = client
        self.table_name = table_name or settings.jobs_table_name
        self._threshold = settings.cache_compression_threshold
        self._clock = clock
        # Every row of a job expires with it; remembered per job this instance has seen.
        self._expiry: dict[str, float] = {}

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        client = self._injected if self._injected is not None else aws_client(self._settings, "dynamodb")
        return await asyncio.to_thread(getattr(client, method), TableName=self.table_name, **kwargs)

    async def _batch_get(self, keys: list[dict[str, Any]], projection: str) -> list[dict[str, Any]]:
        """Rows by key (consistent reads), in no particular order; absent rows are left out."""
        client = self._injected if self._injected is not None else aws_client(self._settings, "dynamodb")
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), _BATCH_GET_KEYS):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": keys[start : start + _BATCH_GET_KEYS],
                    "ConsistentRead": True,
                    "ProjectionExpression": projection,
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            }
            for attempt in range(5):
                response = await asyncio.to_thread(client.batch_get_item, RequestItems=pending)
                found.extend(response.get("Responses", {}).get(self.table_name, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                await asyncio.sleep(0.02 * 2**attempt)
            else:
                raise RuntimeError("DynamoDB left keys unprocessed after retries")
        return found

    async def _put_once(self, item: dict[str, Any]) -> bool:
        try:
            await self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                return False
            raise
        return True

    async def _ttl(self, job_id: str) -> dict[str, str]:
        expires_at = self._expiry.get(job_id)
        if expires_at is None:
            job = await self.get(job_id)
            expires_at = job.expires_at if job is not None else self._clock()
        return {"N": str(math.ceil(expires_at))}

    async def create(self, job: JobRecord) -> None:
        item: dict[str, Any] = {
            "pk": _pk(job.job_id),
            "sk": {"S": _JOB_SK},
            "owner": {"S": job.owner},
            "batch_id": {"S": job.batch_id},
            "status": {"S": job.status},
            "total": _n(job.total),
            "group_count": _n(job.group_count),
            "created_at": _n(job.created_at),
            "updated_at": _n(job.updated_at),
            "expires_at": _n(job.expires_at),
            "ttl": {"N": str(math.ceil(job.expires_at))},
        }
        if job.callback_url:
            item["callback_url"] = {"S": job.callback_url}
        if not await self._put_once(item):
            raise ValueError(f"job {job.job_id} exists")
        self._expiry[job.job_id] = job.expires_at

    async def get(self, job_id: str) -> JobRecord | None:
        found = await self._call(
            "get_item", Key={"pk": _pk(job_id), "sk": {"S": _JOB_SK}}, ConsistentRead=True
        )
        item = found.get("Item")
        if item is None:
            return None
        job = _job_from(item)
        if job.expires_at <= self._clock():
            return None
        self._expiry[job_id] = job.expires_at
        return job

    async def _update_job(self, job_id: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            await self._call(
                "update_item",
                Key={"pk": _pk(job_id), "sk": {"S": _JOB_SK}},
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                # DynamoDB refuses names an expression does not use.
                ExpressionAttributeNames={k: v for k, v in _NAMES.items() if k in expression + condition},
                ExpressionAttributeValues={":now": _n(self._clock()), **values},
            )
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                return False
            raise
        return True

    async def mark_running(self, job_id: str) -> None:
        await self._update_job(
            job_id,
            "SET #status = :running, #updated = :now",
            "#status = :queued",
            {":running": {"S": RUNNING}, ":queued": {"S": QUEUED}},
        )

    async def cancel(self, job_id: str) -> JobRecord | None:
        active = {f":active{i}": {"S": status} for i, status in enumerate(sorted(ACTIVE))}
        await self._update_job(
            job_id,
            "SET #status = :cancelled, #updated = :now",
            f"#status IN ({', '.join(active)}) AND attribute_not_exists(#finished)",
            {":cancelled": {"S": CANCELLED}, **active},
        )
        return await self.get(job_id)

    async def finish(self, job_id: str, status: str, *, seen_status: str) -> bool:
        return await self._update_job(
            job_id,
            "SET #status = :status, #finished = :now, #updated = :now",
            "attribute_not_exists(#finished) AND #status = :seen",
            {":status": {"S": status}, ":seen": {"S": seen_status}},
        )

    async def record_item(self, job_id: str, item: ItemRecord) -> bool:
        result = {"response": item.response, "error": item.error, "error_code": item.error_code}
        encoded = encode(result, threshold=self._threshold)
        status = item.status
        if encoded.stored_bytes > _MAX_RESULT_BYTES:
            status = "failed"
            failure = {
                "response": None,
                "error": "The result was too large to keep with the job.",
                "error_code": "RESULT_TOO_LARGE",
            }
            encoded = encode(failure, threshold=self._threshold)
        return await self._put_once(
            {
                "pk": _pk(job_id, _ITEMS),
                "sk": {"S": _item_sk(item.index)},
                "status": {"S": status},
                "result": {"B": encoded.data},
                "ttl": await self._ttl(job_id),
            }
        )

    async def _query(self, pk: dict[str, str], low: str, limit: int | None) -> list[dict[str, Any]]:
        """Rows of partition `pk` from sort key `low` on, in order (all, or the first `limit`)."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk >= :low",
            "ExpressionAttributeValues": {":pk": pk, ":low": {"S": low}},
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(found)
            page = await self._call("query", **kwargs)
            found.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page or (limit is not None and len(found) >= limit):
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def item_statuses(self, job_id: str, first: int, last: int) -> dict[int, str]:
        keys = [{"pk": _pk(job_id, _ITEMS), "sk": {"S": _item_sk(i)}} for i in range(first, last + 1)]
        rows = await self._batch_get(keys, "sk, #status")
        return {int(row["sk"]["S"].removeprefix("item#")): row["status"]["S"] for row in rows}

    async def items(self, job_id: str, start: int, limit: int) -> tuple[list[ItemRecord], int | None]:
        rows = await self._query(_pk(job_id, _ITEMS), _item_sk(start), limit + 1)
        records = [_item_from(row) for row in rows]
        return records[:limit], (records[limit].index if len(records) > limit else None)

    async def record_group(self, job_id: str, summary: GroupSummary) -> bool:
        return await self._put_once(
            {
                "pk": _pk(job_id, _GROUPS),
                "sk": {"S": _group_sk(summary.group)},
                "size": _n(summary.size),
                "completed": _n(summary.completed),
                "failed": _n(summary.failed),
                "cancelled": _n(summary.cancelled),
                "recorded_at": _n(summary.recorded_at),
                "ttl": await self._ttl(job_id),
            }
        )

    async def mark_group_done(self, job_id: str, group: int) -> int:
        """`ADD` to a number set: atomic, and adding a group twice changes nothing."""
        try:
            response = await self._call(
                "update_item",
                Key={"pk": _pk(job_id), "sk": {"S": _JOB_SK}},
                UpdateExpression="ADD #done :group",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#done": "groups_done"},
                ExpressionAttributeValues={":group": {"NS": [str(group)]}},
                # Not UPDATED_NEW: an ADD that changes nothing (a group added twice) may return nothing.
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                return 0
            raise
        return len(response["Attributes"]["groups_done"]["NS"])

    async def groups(self, job_id: str) -> list[GroupSummary]:
        return [_group_from(row) for row in await self._query(_pk(job_id, _GROUPS), "group#", None)]
