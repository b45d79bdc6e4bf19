"""Settings of the public function; the only reader of its environment is the layer's config."""

import re
from functools import cache
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from textapi_shared.config import SharedSettings, json_object, load_settings


class PublicApiSettings(SharedSettings):
    service_name: str = "textapi-public"
    max_text_length: int = Field(10_000, ge=10, le=100_000)
    max_question_length: int = Field(2_000, ge=10, le=100_000)
    max_batch_requests_per_call: int = Field(50, ge=1, le=500)
    batch_ai_concurrency_limit: int = Field(5, ge=1, le=50)
    rate_limit_per_minute: int = Field(60, ge=1, le=100_000)
    # Key-hash prefix (of the 16 hex digits logged for a key) -> that key's own per-minute limit.
    rate_limit_overrides: Annotated[dict[str, int], NoDecode] = {}
    # The longest a request waits for another instance computing the same answer before it calls the
    # AI itself (and never more than half the time its invocation has left).
    single_flight_wait_seconds: float = Field(10.0, ge=0, le=60)
    prompt_guard_mode: Literal["block", "log"] = "block"
    # PII redaction (SPEC §13): the default of keys without their own `pii`; `comprehend` adds names and
    # addresses (Amazon Comprehend) to the pattern detectors.
    pii_mode: Literal["off", "redact"] = "off"
    pii_detector: Literal["regex", "comprehend"] = "regex"
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
    # A callback receiver on loopback (local tests only); production stages refuse it.
    job_callback_allow_loopback: bool = False
    job_callback_ca_file: str = ""
    job_callback_timeout_seconds: float = Field(5.0, gt=0, le=30)
    job_callback_attempts: int = Field(3, ge=1, le=10)

    @field_validator("jobs_backend", "pii_mode", "pii_detector", mode="before")
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

    @field_validator("rate_limit_overrides", mode="before")
    @classmethod
    def _overrides_json(cls, value: object) -> object:
        return json_object(value, '{"<key-hash prefix>": <requests a minute>, ...}')

    @field_validator("rate_limit_overrides")
    @classmethod
    def _overrides(cls, value: dict[str, int]) -> dict[str, int]:
        problems = [
            f"{prefix!r}: the key-hash prefix must be 4 to 16 lowercase hex digits"
            for prefix in value
            if not _HASH_PREFIX.fullmatch(prefix)
        ] + [
            f"{prefix!r}: the limit must be 1 to 100000 a minute"
            for prefix, limit in value.items()
            if not 1 <= limit <= 100_000
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return value


_HASH_PREFIX = re.compile(r"[0-9a-f]{4,16}")


@cache
def get_settings() -> PublicApiSettings:
    return load_settings(PublicApiSettings)
