"""`make run`: both Lambda apps behind one local port, routed exactly as the HTTP API in template.yaml.

ROUTES mirrors the template's route keys; tests/template asserts the two agree. A request reaches an app
as API Gateway would pass it: repeated headers joined into one, the client address the connection's.

    python infra/local/local_gateway.py [--host 127.0.0.1] [--port 8000] [--log-level info]
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

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


def joined_headers(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]] | None:
    """The headers as API Gateway passes them to a function: one per name, a repeated one's values joined
    with commas (cookies with `; `, as Mangum rebuilds them from the event); None when none repeats.
    Taking the first of two `X-API-Key` headers would authenticate a request the deployment refuses."""
    names = {name for name, _ in headers}  # ASGI servers give the names in lower case
    if len(names) == len(headers):
        return None
    values: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        values.setdefault(name, []).append(value)
    return [(name, (b"; " if name == b"cookie" else b",").join(found)) for name, found in values.items()]


class LocalGateway:
    """An ASGI dispatcher standing in for API Gateway: same routes, same two apps, headers as it passes
    them."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self._apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        joined = joined_headers(scope["headers"])
        if joined is not None:
            scope = {**scope, "headers": joined}
        _, function = resolve_route(scope["method"], scope["path"])
        await self._apps[function](scope, receive, send)


def create_gateway() -> LocalGateway:
    """Both apps as their entry points build them, except that with the memory backends (one process for
    both here, where Lambda runs two) they share the fleet state and the key and usage stores: a key
    created through the internal API works at once, an invalidation reaches the public app."""
    from internal_api.composition import build_services as internal_services
    from internal_api.config import get_settings as internal_settings
    from internal_api.main import create_app as internal_app
    from public_api.composition import build_services as public_services
    from public_api.config import get_settings as public_settings
    from public_api.main import create_app as public_app
    from textapi_shared.fleet.factory import build_fleet_state
    from textapi_shared.monitoring.observability import build_observability
    from textapi_shared.tenancy.factory import build_tenancy_stores
    from textapi_shared.tenancy.resolver import KeyResolver

    public, internal = public_settings(), internal_settings()
    key_store, usage = build_tenancy_stores(public)
    shared = {
        "fleet": build_fleet_state(public),
        "tenancy": (KeyResolver(key_store, ttl_s=public.key_cache_seconds), usage),
    }
    if public.cache_backend != "memory":
        del shared["fleet"]  # already shared, through the backend
    if public.keys_backend != "memory":
        del shared["tenancy"]
    return LocalGateway(
        {
            PUBLIC: public_app(public, public_services(public, build_observability(public), **shared)),
            INTERNAL: internal_app(
                internal, internal_services(internal, build_observability(internal), **shared)
            ),
        }
    )


# How uvicorn serves the gateway. The client address is the connection's, as API Gateway's `sourceIp`
# is: uvicorn would otherwise take it from the `X-Forwarded-For` of a loopback client, which anyone can
# send, and a rotating one would reset the per-client rate limit of open mode. No lifespan, as in Lambda.
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False, "lifespan": "off", "access_log": False}


def main(argv: Sequence[str] | None = None) -> None:
    """`make run` (and `make fuzz`): the gateway on `--host`:`--port`."""
    parser = argparse.ArgumentParser(description="Both APIs on one port, routed as API Gateway routes them.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(create_gateway(), host=args.host, port=args.port, log_level=args.log_level, **SERVER_OPTIONS)


if __name__ == "__main__":
    main()
