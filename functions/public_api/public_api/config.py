"""Settings of the public function; the only reader of its environment is the layer's config."""

from functools import cache
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from textapi_shared.config import SharedSettings, load_settings


class PublicApiSettings(SharedSettings):
    service_name: str = "textapi-public"
    max_text_length: int = Field(10_000, ge=10, le=100_000)
    max_question_length: int = Field(2_000, ge=10, le=100_000)
    max_batch_requests_per_call: int = Field(50, ge=1, le=500)
    batch_ai_concurrency_limit: int = Field(5, ge=1, le=50)
    rate_limit_per_minute: int = Field(60, ge=1, le=100_000)
    prompt_guard_mode: Literal["block", "log"] = "block"
    # Public health is unauthenticated: its status is recomputed at most this often per instance.
    health_cache_seconds: float = Field(5.0, ge=0, le=300)

    # Idempotency-Key records (kept in the cache's shared backend).
    idempotency_ttl_seconds: int = Field(86_400, ge=60, le=7 * 86_400)

    # Jobs: `memory` runs them in-process (make run); `sqs` queues them for the worker function.
    jobs_backend: Literal["memory", "sqs"] = "memory"
    jobs_queue_url: str = ""
    jobs_table_name: str = ""
    max_job_requests: int = Field(1000, ge=1, le=10_000)
    job_items_per_hour: int = Field(10_000, ge=1, le=10_000_000)
    job_items_per_message: int = Field(10, ge=1, le=50)
    job_retention_days: int = Field(7, ge=1, le=365)
    # The queue's maxReceiveCount: on that receive, items still failing for now fail for good.
    job_max_receive_count: int = Field(5, ge=1, le=1000)
    job_retry_base_seconds: float = Field(30.0, ge=0, le=3600)
    job_callback_secret: str = Field("", repr=False)
    job_callback_secret_ssm_parameter: str = ""
    # A callback receiver on loopback (local tests only); production stages refuse it.
    job_callback_allow_loopback: bool = False
    job_callback_ca_file: str = ""
    job_callback_timeout_seconds: float = Field(5.0, gt=0, le=30)
    job_callback_attempts: int = Field(3, ge=1, le=10)

    @field_validator("jobs_backend", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _jobs_backend_is_complete(self) -> Self:
        if self.jobs_backend == "sqs" and not (self.jobs_queue_url and self.jobs_table_name):
            raise ValueError("JOBS_BACKEND=sqs needs JOBS_QUEUE_URL and JOBS_TABLE_NAME")
        if self.is_production and self.job_callback_allow_loopback:
            raise ValueError("JOB_CALLBACK_ALLOW_LOOPBACK may not be true in a production stage")
        return self

    @property
    def job_callbacks_enabled(self) -> bool:
        return bool(self.job_callback_secret or self.job_callback_secret_ssm_parameter)


@cache
def get_settings() -> PublicApiSettings:
    return load_settings(PublicApiSettings)
