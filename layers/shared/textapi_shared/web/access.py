"""Who may call a route: declared once per router by its route class, read by the access gate (which
authenticates before the body is read) and by the OpenAPI document (which marks keyed operations).

    router = APIRouter(prefix="/v1/things", route_class=PublicKeyRoute)

A route that needs its caller takes `ApiKey` / `AdminKey` (`web.dependencies`), which returns the caller
the gate found. Declaring access by route class costs nothing per request, where a router-level
dependency would be solved on every call of the hot path.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from fastapi.routing import APIRoute

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class Access(StrEnum):
    PUBLIC = "public"  # an API key is required
    OPTIONAL = "optional"  # anonymous calls pass; a key that is presented must be valid
    ADMIN = "admin"  # an admin key is required


class PublicKeyRoute(APIRoute):
    access = Access.PUBLIC


class OptionalKeyRoute(APIRoute):
    access = Access.OPTIONAL


class AdminKeyRoute(APIRoute):
    access = Access.ADMIN


def route_access(route: BaseRoute) -> Access | None:
    """The key a route requires; None for an open route."""
    return getattr(route, "access", None)
