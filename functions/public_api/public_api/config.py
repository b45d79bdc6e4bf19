"""Settings of the public function; the only reader of its environment is the layer's config."""

from functools import cache
from typing import Literal

from pydantic import Field

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


@cache
def get_settings() -> PublicApiSettings:
    return load_settings(PublicApiSettings)
