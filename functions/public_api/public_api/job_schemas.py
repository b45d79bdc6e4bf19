"""Request and response models of the jobs API (results use the batch item shape)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from public_api.schemas import BatchItemResult, BatchTextProcessingRequest

JobStatus = Literal["queued", "running", "completed", "completed_with_errors", "cancelled"]


# Answers of job routes: built when first sent, not in every cold start (no job route is the hot path).
_READ_MODELS = ConfigDict(defer_build=True)


class JobSubmitRequest(BatchTextProcessingRequest):
    """A batch body (up to MAX_JOB_REQUESTS items) and, optionally, where to report its end."""

    callback_url: str | None = Field(
        None,
        max_length=2048,
        description="https URL that receives a Standard Webhooks `POST` (the job's status, counts and token "
        "totals) when the job ends, signed with your key's secret (`GET .../jobs/callback-secret`); it "
        "must resolve to public addresses only",
    )


class JobSubmittedResponse(BaseModel):
    model_config = _READ_MODELS

    job_id: str
    batch_id: str
    status: JobStatus
    total_requests: int
    created_at: str
    expires_at: str


class JobSummary(BaseModel):
    """A job's status and counts (a row of the job list)."""

    model_config = _READ_MODELS

    job_id: str
    batch_id: str
    status: JobStatus
    total_requests: int
    completed: int
    failed: int
    cancelled: int
    pending: int = Field(description="completed + failed + cancelled + pending == total_requests")
    created_at: str


class JobStatusResponse(JobSummary):
    updated_at: str
    expires_at: str
    results: list[BatchItemResult] = Field(
        description="Recorded results in index order from `next_token`'s position; complete once the job ends"
    )
    next_token: str | None = Field(
        None, description="Pass as `?next_token=` for the next page; null on the last"
    )


class JobListResponse(BaseModel):
    model_config = _READ_MODELS

    jobs: list[JobSummary] = Field(description="The calling key's jobs, newest first")
    next_token: str | None = Field(
        None, description="Pass as `?next_token=` for the next page; null on the last"
    )


class CallbackSecretResponse(BaseModel):
    model_config = _READ_MODELS

    secret: str = Field(
        description="Your job callbacks' Standard Webhooks secret (`whsec_` + base64): verify each callback "
        "with it (e.g. `standardwebhooks.Webhook(secret).verify(body, headers)`)"
    )
