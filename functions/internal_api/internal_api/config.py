"""Settings of the internal function."""

from functools import cache
from typing import Self

from pydantic import field_validator, model_validator

from textapi_shared.config import CommaList, SharedSettings, load_settings, split_list


class InternalApiSettings(SharedSettings):
    service_name: str = "textapi-internal"
    disable_internal_docs: bool = False
    # The admin API's own browser origins: none by default, never those of the public API.
    internal_cors_origins: CommaList = []

    @field_validator("internal_cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        return split_list(value)

    @model_validator(mode="after")
    def _no_wildcard_admin_origin(self) -> Self:
        if "*" in self.internal_cors_origins:
            raise ValueError("INTERNAL_CORS_ORIGINS may not contain '*': name the admin console's origin")
        return self


@cache
def get_settings() -> InternalApiSettings:
    return load_settings(InternalApiSettings)
