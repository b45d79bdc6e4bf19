"""Jobs in DynamoDB (`JOBS_TABLE_NAME`, keys `pk`/`sk`, TTL attribute `ttl`; rows in `dynamodb_rows`).

Writes that must happen once are conditional puts (an item result, a group summary) or conditional
updates (the job's end); a job's finished groups are an `ADD` to a number set, atomic and
idempotent. Counts are sums of the group rows, never counters: nothing is read, then written back.
DynamoDB deletes expired rows late, so reads check `expires_at` of the job row. boto3 calls run in
worker threads.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from public_api.services.jobs import dynamodb_rows as rows
from public_api.services.jobs.records import ACTIVE, CANCELLED, QUEUED, RUNNING
from public_api.services.jobs.store import position_of
from textapi_shared.aws import DynamoDBTable, aws_error_code

if TYPE_CHECKING:
    from collections.abc import Callable

    from public_api.config import PublicApiSettings
    from public_api.services.jobs.records import GroupSummary, ItemOutcome, ItemRecord, JobRecord

_CONDITION_FAILED = "ConditionalCheckFailedException"
_NAMES = {"#status": "status", "#finished": "finished_at", "#updated": "updated_at", "#done": "groups_done"}


class DynamoDBJobStore:
    def __init__(
        self,
        settings: PublicApiSettings,
        *,
        client: Any | None = None,
        table_name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name or settings.jobs_table_name
        self._table = DynamoDBTable(settings, self.table_name, client)
        self._threshold = settings.cache_compression_threshold
        self._clock = clock
        # Every row of a job expires with it: the expiry of each job this instance has seen.
        self._expiry: dict[str, float] = {}

    async def _put_once(self, row: dict[str, Any]) -> bool:
        try:
            await self._table.call("put_item", Item=row, ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                return False
            raise
        return True

    async def _update_job(self, job_id: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            await self._table.call(
                "update_item",
                Key=rows.job_key(job_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                # DynamoDB refuses names an expression does not use.
                ExpressionAttributeNames={k: v for k, v in _NAMES.items() if k in expression + condition},
                ExpressionAttributeValues={":now": rows.number(self._clock()), **values},
            )
        except Exception as exc:
            if aws_error_code(exc) == _CONDITION_FAILED:
                return False
            raise
        return True

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
            page = await self._table.call("query", **kwargs)
            found.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page or (limit is not None and len(found) >= limit):
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _batch_get(self, keys: list[dict[str, Any]], projection: str) -> list[dict[str, Any]]:
        """Rows by key (consistent reads), in no particular order; absent rows are left out."""
        return await self._table.batch_get(keys, projection=projection, names={"#status": "status"})

    async def _expires_at(self, job_id: str) -> float:
        if job_id not in self._expiry:
            job = await self.get(job_id)
            return job.expires_at if job is not None else self._clock()
        return self._expiry[job_id]

    async def create(self, job: JobRecord) -> None:
        if not await self._put_once(rows.job_row(job)):
            raise ValueError(f"job {job.job_id} exists")
        self._expiry[job.job_id] = job.expires_at
        await self._table.call("put_item", Item=rows.owner_row(job, position_of(job)))

    async def get(self, job_id: str) -> JobRecord | None:
        found = await self._table.call("get_item", Key=rows.job_key(job_id), ConsistentRead=True)
        if "Item" not in found:
            return None
        job = rows.job_from(found["Item"])
        if job.expires_at <= self._clock():
            return None
        self._expiry[job_id] = job.expires_at
        return job

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
        expires_at = await self._expires_at(job_id)
        return await self._put_once(
            rows.item_row(job_id, item, expires_at=expires_at, threshold=self._threshold)
        )

    async def item_outcomes(self, job_id: str, first: int, last: int) -> dict[int, ItemOutcome]:
        pk = rows.items_pk(job_id)
        keys = [{"pk": pk, "sk": {"S": rows.item_sk(i)}} for i in range(first, last + 1)]
        found = await self._batch_get(keys, "sk, #status, tokens_billed, tokens_saved")
        return {int(row["sk"]["S"].removeprefix("item#")): rows.outcome_from(row) for row in found}

    async def items(self, job_id: str, start: int, limit: int) -> tuple[list[ItemRecord], int | None]:
        found = [
            rows.item_from(row)
            for row in await self._query(rows.items_pk(job_id), rows.item_sk(start), limit + 1)
        ]
        return found[:limit], (found[limit].index if len(found) > limit else None)

    async def record_group(self, job_id: str, summary: GroupSummary) -> bool:
        expires_at = await self._expires_at(job_id)
        return await self._put_once(rows.group_row(job_id, summary, expires_at=expires_at))

    async def mark_group_done(self, job_id: str, group: int) -> int:
        """`ADD` to a number set: atomic, and adding a group twice changes nothing."""
        try:
            response = await self._table.call(
                "update_item",
                Key=rows.job_key(job_id),
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
        return [rows.group_from(row) for row in await self._query(rows.groups_pk(job_id), "group#", None)]

    async def owned(self, owner: str, *, limit: int, after: str | None) -> tuple[list[JobRecord], str | None]:
        """The owner's index rows newest first (one Query), then their jobs at once; a job gone past its
        retention is left out."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": rows.owner_pk(owner)},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {"pk": rows.owner_pk(owner), "sk": {"S": after}}
        index = (await self._table.call("query", **kwargs)).get("Items", [])
        jobs = await asyncio.gather(*(self.get(row["job_id"]["S"]) for row in index[:limit]))
        more = len(index) > limit
        return [job for job in jobs if job is not None], (index[limit - 1]["sk"]["S"] if more else None)
