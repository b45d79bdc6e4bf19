"""`make run`: both Lambda apps behind one local port, routed exactly as the HTTP API in template.yaml.

ROUTES mirrors the template's route keys; tests/template asserts the two agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC = "PublicApiFunction"
INTERNAL = "InternalApiFunction"

ROUTES: tuple[tuple[str, str], ...] = (
    ("ANY /v1/{proxy+}", PUBLIC),
    ("GET /docs", PUBLIC),
    ("GET /redoc", PUBLIC),
    ("GET /openapi.json", PUBLIC),
    ("ANY /internal", INTERNAL),
    ("ANY /internal/{proxy+}", INTERNAL),
    ("$default", PUBLIC),
)


def _matches(route_key: str, method: str, path: str) -> bool:
    route_method, route_path = route_key.split(" ", 1)
    if route_method not in ("ANY", method):
        return False
    if route_path.endswith("/{proxy+}"):
        prefix = route_path.removesuffix("{proxy+}")
        return path.startswith(prefix) and len(path) > len(prefix)
    # Exact, as in API Gateway: `/internal/` is not `ANY /internal` and a greedy variable needs one
    # character, so it falls to `$default`; the canonical index path is `/internal`.
    return path == route_path


def resolve_route(method: str, path: str) -> tuple[str, str]:
    """The route key and function API Gateway would pick: a matching route first, `$default` last."""
    for route_key, function in ROUTES:
        if route_key != "$default" and _matches(route_key, method, path):
            return route_key, function
    return "$default", dict(ROUTES)["$default"]


class LocalGateway:
    """An ASGI dispatcher standing in for API Gateway: same routes, same two apps."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self._apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        _, function = resolve_route(scope["method"], scope["path"])
        await self._apps[function](scope, receive, send)


def create_gateway() -> LocalGateway:
    from internal_api.main import app as internal_app
    from public_api.main import app as public_app

    return LocalGateway({PUBLIC: public_app, INTERNAL: internal_app})
