"""Settings of the public function; the only reader of its environment is the layer's config."""

from __future__ import annotations

from functools import cache

from textapi_shared.config import SharedSettings, load_settings


class PublicApiSettings(SharedSettings):
    service_name: str = "textapi-public"


@cache
def get_settings() -> PublicApiSettings:
    return load_settings(PublicApiSettings)
