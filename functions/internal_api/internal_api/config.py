"""Settings of the internal function."""

from functools import cache

from textapi_shared.config import SharedSettings, load_settings


class InternalApiSettings(SharedSettings):
    service_name: str = "textapi-internal"
    disable_internal_docs: bool = False


@cache
def get_settings() -> InternalApiSettings:
    return load_settings(InternalApiSettings)
