"""Jobs: many operations run asynchronously by the worker function, polled or called back."""

import re

from fastapi import APIRouter, Depends, Query, Request, Response

from public_api.dependencies import JOBS, Context, Idempotency, Services, check_job_size, owner_of
from public_api.job_schemas import (
    CallbackSecretResponse,
    JobListResponse,
    JobStatusResponse,
    JobSubmitRequest,
    JobSubmittedResponse,
    JobSummary,
)
from public_api.schemas import BatchItemResult, TextProcessingResponse
from public_api.services.jobs.service import JobView
from public_api.services.text_requests import check_lengths
from textapi_shared.errors import NotFoundError
from textapi_shared.paging import page_position, page_token
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.access import PublicKeyRoute
from textapi_shared.web.dependencies import METERED_READ
from textapi_shared.web.idempotency import model_response
from textapi_shared.web.openapi import KEYED, WITH_BODY, error_responses

PREFIX = "/v1/text_processing/jobs"
router = APIRouter(
    prefix=PREFIX, tags=["jobs"], route_class=PublicKeyRoute, responses=error_responses(*KEYED)
)
_JOB_ID = re.compile(r"^job_[0-9a-f]{32}$")
MAX_PAGE = 500


def _checked_id(job_id: str) -> str:
    if not _JOB_ID.match(job_id):
        raise NotFoundError(f"No job {job_id!r}.")
    return job_id


def _token(index: int | None) -> str | None:
    return page_token({"i": index}) if index is not None else None


def _start(token: str | None) -> int:
    index = page_position(token).get("i") if token is not None else 0
    if not isinstance(index, int) or index < 0:
        page_position("")  # the same refusal as any token this API did not return
    return index  # type: ignore[return-value]


def _status(view: JobView) -> JobStatusResponse:
    job, counts = view.job, view.counts
    return JobStatusResponse(
        job_id=job.job_id,
        batch_id=job.batch_id,
        status=view.status,
        total_requests=job.total,
        completed=counts.completed,
        failed=counts.failed,
        cancelled=counts.cancelled,
        pending=counts.pending,
        created_at=utc_timestamp(job.created_at),
        updated_at=utc_timestamp(counts.updated_at),
        expires_at=utc_timestamp(job.expires_at),
        results=[
            BatchItemResult(
                request_index=item.index,
                status=item.status,
                response=TextProcessingResponse(**item.response) if item.response is not None else None,
                error=item.error,
                error_code=item.error_code,
            )
            for item in view.items
        ],
        next_token=_token(view.next_index),
    )


@router.post(
    "",
    status_code=202,
    response_model=JobSubmittedResponse,
    dependencies=[JOBS, Depends(check_job_size)],
    responses=error_responses(*WITH_BODY, 403, 409, 429),
)
async def submit_job(
    body: JobSubmitRequest, request: Request, ctx: Context, services: Services, idempotency: Idempotency
) -> Response:
    """Queue a batch as an asynchronous job (202 and a Location to poll); submitting costs one request."""
    check_lengths(
        [(("body", "requests", i), item) for i, item in enumerate(body.requests)], services.settings
    )
    assert ctx.principal is not None
    ctx.principal.require(*dict.fromkeys(item.operation for item in body.requests))  # refused whole

    async def submit() -> Response:
        job = await services.jobs.submit(
            ctx, owner_of(ctx), body.requests, batch_id=body.batch_id, callback_url=body.callback_url
        )
        submitted = JobSubmittedResponse(
            job_id=job.job_id,
            batch_id=job.batch_id,
            status=job.status,
            total_requests=job.total,
            created_at=utc_timestamp(job.created_at),
            expires_at=utc_timestamp(job.expires_at),
        )
        # root_path is the stage prefix behind a named stage (`/dev`), so the Location is reachable.
        location = f"{request.scope.get('root_path', '')}{PREFIX}/{job.job_id}"
        return model_response(submitted, status_code=202, headers={"Location": location})

    return await idempotency.run(submit)


@router.get(
    "",
    response_model=JobListResponse,
    dependencies=[JOBS, METERED_READ],
    responses=error_responses(403, 422, 429),
)
async def list_jobs(
    ctx: Context,
    services: Services,
    limit: int = Query(20, ge=1, le=100, description="jobs per page"),
    next_token: str | None = Query(None, max_length=200),
) -> JobListResponse:
    """Your jobs, newest first, with their status and counts; costs a quarter request."""
    after = page_position(next_token).get("after") if next_token is not None else None
    views, next_after = await services.jobs.owned(
        owner_of(ctx), limit=limit, after=str(after) if after is not None else None
    )
    return JobListResponse(
        jobs=[
            JobSummary(
                job_id=view.job.job_id,
                batch_id=view.job.batch_id,
                status=view.status,
                total_requests=view.job.total,
                completed=view.counts.completed,
                failed=view.counts.failed,
                cancelled=view.counts.cancelled,
                pending=view.counts.pending,
                created_at=utc_timestamp(view.job.created_at),
            )
            for view in views
        ],
        next_token=page_token({"after": next_after}) if next_after is not None else None,
    )


@router.get(
    "/callback-secret",
    response_model=CallbackSecretResponse,
    dependencies=[JOBS, METERED_READ],
    responses=error_responses(403, 409, 429, 503),
)
async def get_callback_secret(ctx: Context, services: Services) -> CallbackSecretResponse:
    """The secret your job callbacks are signed with (Standard Webhooks); costs a quarter request."""
    record = ctx.principal.record if ctx.principal is not None else None
    return CallbackSecretResponse(secret=await services.jobs.callback_secret(owner_of(ctx), record))


@router.get(
    "/{job_id}",
    response_model=JobStatusResponse,
    dependencies=[JOBS, METERED_READ],
    responses=error_responses(403, 404, 422, 429),
)
async def get_job(
    job_id: str,
    ctx: Context,
    services: Services,
    limit: int = Query(100, ge=1, le=MAX_PAGE, description="results per page"),
    next_token: str | None = Query(None, max_length=200),
) -> JobStatusResponse:
    """Status, counts and a page of results (index order) of one of your jobs; costs a quarter request."""
    view = await services.jobs.view(owner_of(ctx), _checked_id(job_id), start=_start(next_token), limit=limit)
    return _status(view)


@router.delete(
    "/{job_id}",
    response_model=JobStatusResponse,
    dependencies=[JOBS, METERED_READ],
    responses=error_responses(403, 404, 422, 429),
)
async def cancel_job(job_id: str, ctx: Context, services: Services) -> JobStatusResponse:
    """Cancel one of your jobs: items not started yet never run (a finished job is left as it is); costs a
    quarter request."""
    return _status(await services.jobs.cancel(owner_of(ctx), _checked_id(job_id)))
