"""FastAPI dependencies both apps use; each function aliases them with `Annotated` in its own
`dependencies.py`. Key checks may read SSM, so they are sync and run in FastAPI's thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request  # noqa: TC002  FastAPI resolves this annotation at runtime

if TYPE_CHECKING:
    from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal


def authenticator(request: Request) -> ApiKeyAuthenticator:
    return request.app.state.authenticator


def require_api_key(request: Request) -> Principal:
    principal = authenticator(request).authenticate_public(request.headers)
    assert principal is not None
    return principal


def optional_api_key(request: Request) -> Principal | None:
    """Anonymous calls pass; a key that is presented must be valid."""
    return authenticator(request).authenticate_public(request.headers, required=False)


def require_admin_key(request: Request) -> Principal:
    return authenticator(request).authenticate_admin(request.headers)
