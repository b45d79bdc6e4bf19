"""API Gateway HTTP API (payload v2) events, built from the recorded JSON files in tests/events/."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from local_gateway import resolve_route

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


@cache
def _recorded(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded event file."""
    return copy.deepcopy(_recorded(name))


def build_http_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    stage: str = "$default",
    request_id: str | None = None,
    base64_body: bool = True,
) -> dict[str, Any]:
    """An event as API Gateway sends it for `method path` (path without the stage prefix).

    The route key and `pathParameters` are those the template's routes would select; under a
    named stage the raw path carries `/<stage>` as it does in AWS. A query string in `path` is the
    query, as a client would send it.
    """
    if "?" in path:
        path, _, query_string = path.partition("?")
        query = {**dict(parse_qsl(query_string, keep_blank_values=True)), **(query or {})}
    event = load_event("http_api_get.json")
    route_key, _ = resolve_route(method, path)
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event_headers = {k: v for k, v in event["headers"].items() if k != "content-length"}
    event_headers.update({k.lower(): v for k, v in (headers or {}).items()})

    event["routeKey"] = route_key
    event["rawPath"] = raw_path
    event["rawQueryString"] = urlencode(query or {})
    if query:
        event["queryStringParameters"] = dict(query)
    context = event["requestContext"]
    context.update(routeKey=route_key, stage=stage, requestId=request_id or uuid.uuid4().hex[:16] + "=")
    context["http"].update(method=method, path=raw_path)
    if route_key.endswith("{proxy+}"):
        prefix = route_key.split(" ", 1)[1].removesuffix("{proxy+}")
        event["pathParameters"] = {"proxy": path.removeprefix(prefix)}
    else:
        event.pop("pathParameters", None)

    if body is not None:
        raw = json.dumps(body).encode() if isinstance(body, dict | list) else body
        raw = raw.encode() if isinstance(raw, str) else raw
        event_headers.setdefault("content-type", "application/json")
        event_headers["content-length"] = str(len(raw))
        event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
        event["isBase64Encoded"] = base64_body
    event["headers"] = event_headers
    return event


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of a Lambda proxy response."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)


def response_text(response: dict[str, Any]) -> str:
    body = response.get("body") or ""
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else body
