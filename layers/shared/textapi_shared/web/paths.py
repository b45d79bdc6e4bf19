"""The path a request asks for inside its app: the ASGI path without the stage prefix (`root_path`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """`/dev/v1/health` served under the root path `/dev` is `/v1/health`; `/dev` alone is ``."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path
