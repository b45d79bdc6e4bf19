"""The OpenAPI document, Swagger UI and ReDoc of an app, served by the function itself: the pages load
their scripts and styles from `{prefix}/docs/assets/`, so the docs work without internet access and under
a strict content security policy (no CDN). The assets are the files the `fastapi-offline` distribution
ships; nothing of it is imported until a docs page is asked for.

The routes go after the API's (a request to the API is never matched against them first), and their
URLs carry the stage prefix (`root_path`), so `/dev/docs` loads `/dev/openapi.json`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import JSONResponse, Response

from textapi_shared.errors import NotFoundError

if TYPE_CHECKING:
    from fastapi import FastAPI

_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_ASSET_CACHE = "public, max-age=86400"


@cache
def _asset(name: str) -> bytes:
    from importlib.resources import files

    return (files("fastapi_offline") / "static" / name).read_bytes()


def docs_paths(prefix: str) -> frozenset[str]:
    """The HTML pages (they get the docs' content security policy)."""
    return frozenset({f"{prefix}/docs", f"{prefix}/redoc"})


def add_docs(app: FastAPI, *, prefix: str, title: str) -> None:
    """`{prefix}/openapi.json`, `{prefix}/docs` (+ its OAuth2 redirect page), `{prefix}/redoc` and the
    assets they load."""
    openapi_url = f"{prefix}/openapi.json"
    assets = f"{prefix}/docs/assets"

    def root(request: Request) -> str:
        return request.scope.get("root_path", "")

    async def openapi(request: Request) -> JSONResponse:
        schema = app.openapi()
        base = root(request).rstrip("/")
        if base:  # "Try it out" under a named stage calls the stage's URLs
            schema = {**schema, "servers": [{"url": base}, *schema.get("servers", [])]}
        return JSONResponse(schema)

    async def swagger_ui(request: Request) -> Response:
        base = root(request)
        return get_swagger_ui_html(
            openapi_url=base + openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{base}{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{base}{assets}/favicon.png",
            oauth2_redirect_url=f"{base}{prefix}/docs/oauth2-redirect",
        )

    async def oauth2_redirect(request: Request) -> Response:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> Response:
        base = root(request)
        return get_redoc_html(
            openapi_url=base + openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{base}{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{assets}/favicon.png",
            with_google_fonts=False,
        )

    async def asset(name: str) -> Response:
        media_type = _ASSETS.get(name)
        if media_type is None:
            raise NotFoundError(f"No docs asset named {name[:40]!r}.")
        return Response(_asset(name), media_type=media_type, headers={"Cache-Control": _ASSET_CACHE})

    for path, endpoint in (
        (openapi_url, openapi),
        (f"{prefix}/docs", swagger_ui),
        (f"{prefix}/docs/oauth2-redirect", oauth2_redirect),
        (f"{prefix}/redoc", redoc),
        (f"{assets}/{{name}}", asset),
    ):
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
