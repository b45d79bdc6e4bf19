"""The rows of the jobs table, and the records they hold (the layout `DynamoDBJobStore` reads and writes).

Three partitions per job: the job row (`pk = job#<id>`, `sk = job`), its item results
(`pk = job#<id>#items`, `sk = item#000042`, the result as codec bytes: JSON, compressed when large)
and its finished groups (`pk = job#<id>#groups`, `sk = group#000004`, their counts), so reading every
group summary never reads a result; and per owner, an index row per job (`pk = owner#<owner>#jobs`,
`sk = <created_at>#<job id>`) for the owner's list. Every row carries the job's expiry in `ttl`.
"""

from __future__ import annotations

import math
from typing import Any

from public_api.services.jobs.records import GroupSummary, ItemOutcome, ItemRecord, JobRecord
from textapi_shared.cache.codec import decode, encode

JOB_SK = "job"
MAX_RESULT_BYTES = 350_000  # DynamoDB items hold 400 KB, attribute names included
_TOO_LARGE = {
    "response": None,
    "error": "The result was too large to keep with the job.",
    "error_code": "RESULT_TOO_LARGE",
}


def job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"job#{job_id}"}, "sk": {"S": JOB_SK}}


def items_pk(job_id: str) -> dict[str, str]:
    return {"S": f"job#{job_id}#items"}


def groups_pk(job_id: str) -> dict[str, str]:
    return {"S": f"job#{job_id}#groups"}


def item_sk(index: int) -> str:
    return f"item#{index:06d}"


def group_sk(group: int) -> str:
    return f"group#{group:06d}"


def owner_pk(owner: str) -> dict[str, str]:
    return {"S": f"owner#{owner}#jobs"}


def owner_row(job: JobRecord, position: str) -> dict[str, Any]:
    """The owner's index row of a job: its place in the owner's list, newest first (`sk`)."""
    return {
        "pk": owner_pk(job.owner),
        "sk": {"S": position},
        "job_id": {"S": job.job_id},
        "ttl": ttl(job.expires_at),
    }


def number(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def ttl(expires_at: float) -> dict[str, str]:
    return {"N": str(math.ceil(expires_at))}


def job_row(job: JobRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        **job_key(job.job_id),
        "owner": {"S": job.owner},
        "batch_id": {"S": job.batch_id},
        "status": {"S": job.status},
        "total": number(job.total),
        "group_count": number(job.group_count),
        "created_at": number(job.created_at),
        "updated_at": number(job.updated_at),
        "expires_at": number(job.expires_at),
        "ttl": ttl(job.expires_at),
        "cache_scope": {"S": job.cache_scope},
    }
    if job.callback_url:
        row["callback_url"] = {"S": job.callback_url}
    return row


def job_from(row: dict[str, Any]) -> JobRecord:
    return JobRecord(
        job_id=row["pk"]["S"].removeprefix("job#"),
        owner=row["owner"]["S"],
        batch_id=row["batch_id"]["S"],
        status=row["status"]["S"],
        total=int(row["total"]["N"]),
        group_count=int(row["group_count"]["N"]),
        created_at=float(row["created_at"]["N"]),
        updated_at=float(row["updated_at"]["N"]),
        expires_at=float(row["expires_at"]["N"]),
        callback_url=row["callback_url"]["S"] if "callback_url" in row else None,
        finished_at=float(row["finished_at"]["N"]) if "finished_at" in row else None,
        groups_done=frozenset(int(g) for g in row.get("groups_done", {}).get("NS", [])),
        cache_scope=row.get("cache_scope", {}).get("S", "open"),
    )


def item_row(job_id: str, item: ItemRecord, *, expires_at: float, threshold: int) -> dict[str, Any]:
    """A result too large for an item is kept as a failure that says so."""
    status = item.status
    encoded = encode(
        {"response": item.response, "error": item.error, "error_code": item.error_code}, threshold=threshold
    )
    if encoded.stored_bytes > MAX_RESULT_BYTES:
        status, encoded = "failed", encode(_TOO_LARGE, threshold=threshold)
    outcome = item.outcome
    return {
        "pk": items_pk(job_id),
        "sk": {"S": item_sk(item.index)},
        "status": {"S": status},
        "result": {"B": encoded.data},
        # Beside the result, for the group's summary: read without the (large, compressed) result.
        "tokens_billed": number(outcome.tokens_billed),
        "tokens_saved": number(outcome.tokens_saved),
        "ttl": ttl(expires_at),
    }


def outcome_from(row: dict[str, Any]) -> ItemOutcome:
    return ItemOutcome(
        row["status"]["S"],
        int(row["tokens_billed"]["N"]) if "tokens_billed" in row else 0,
        int(row["tokens_saved"]["N"]) if "tokens_saved" in row else 0,
    )


def item_from(row: dict[str, Any]) -> ItemRecord:
    result = decode(row["result"]["B"])
    return ItemRecord(
        index=int(row["sk"]["S"].removeprefix("item#")),
        status=row["status"]["S"],
        response=result.get("response"),
        error=result.get("error"),
        error_code=result.get("error_code"),
    )


def group_row(job_id: str, summary: GroupSummary, *, expires_at: float) -> dict[str, Any]:
    return {
        "pk": groups_pk(job_id),
        "sk": {"S": group_sk(summary.group)},
        "size": number(summary.size),
        "completed": number(summary.completed),
        "failed": number(summary.failed),
        "cancelled": number(summary.cancelled),
        "recorded_at": number(summary.recorded_at),
        "tokens_billed": number(summary.tokens_billed),
        "tokens_saved": number(summary.tokens_saved),
        "ttl": ttl(expires_at),
    }


def group_from(row: dict[str, Any]) -> GroupSummary:
    return GroupSummary(
        group=int(row["sk"]["S"].removeprefix("group#")),
        size=int(row["size"]["N"]),
        completed=int(row["completed"]["N"]),
        failed=int(row["failed"]["N"]),
        cancelled=int(row["cancelled"]["N"]),
        recorded_at=float(row["recorded_at"]["N"]),
        tokens_billed=int(row["tokens_billed"]["N"]) if "tokens_billed" in row else 0,
        tokens_saved=int(row["tokens_saved"]["N"]) if "tokens_saved" in row else 0,
    )
