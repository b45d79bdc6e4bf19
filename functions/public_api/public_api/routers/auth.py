from fastapi import APIRouter

from public_api.dependencies import ApiKey
from public_api.schemas import AuthStatusResponse
from textapi_shared.security.api_keys import ApiKeyAuthenticator
from textapi_shared.web.access import PublicKeyRoute
from textapi_shared.web.dependencies import METERED_READ
from textapi_shared.web.openapi import KEYED, error_responses

router = APIRouter(
    prefix="/v1/auth", tags=["auth"], route_class=PublicKeyRoute, responses=error_responses(*KEYED)
)


@router.get(
    "/status", response_model=AuthStatusResponse, dependencies=[METERED_READ], responses=error_responses(429)
)
async def auth_status(principal: ApiKey) -> AuthStatusResponse:
    """Whether the presented key is valid (401 otherwise); costs a quarter request."""
    if principal.open_access:
        return AuthStatusResponse(
            authenticated=True,
            api_key_prefix=None,
            message=ApiKeyAuthenticator.open_message(),
            details={"open_access": True},
        )
    return AuthStatusResponse(
        authenticated=True, api_key_prefix=principal.key_prefix, message="API key is valid."
    )
