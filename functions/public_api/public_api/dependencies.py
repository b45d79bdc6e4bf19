"""`Annotated` dependency aliases for the public routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from public_api.config import PublicApiSettings
from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal
from textapi_shared.web.dependencies import authenticator, optional_api_key, require_api_key


async def settings(request: Request) -> PublicApiSettings:
    return request.app.state.settings


Settings = Annotated[PublicApiSettings, Depends(settings)]
Authenticator = Annotated[ApiKeyAuthenticator, Depends(authenticator)]
ApiKey = Annotated[Principal, Depends(require_api_key)]
OptionalApiKey = Annotated[Principal | None, Depends(optional_api_key)]
