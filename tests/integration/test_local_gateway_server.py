"""`make run`'s gateway over real sockets, served with the options `local_gateway.main` uses: a request
reaches the apps as API Gateway would pass it to a function, whatever headers the client sends."""

from __future__ import annotations

import http.client
import json
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import uvicorn

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from local_gateway import INTERNAL, PUBLIC, SERVER_OPTIONS, LocalGateway
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app

if TYPE_CHECKING:
    from collections.abc import Iterator

TEXT = "The harbour authority approved a new ferry terminal after two years of public consultation."


@contextmanager
def serving(**settings: object) -> Iterator[int]:
    """The gateway over both apps (built with `settings`) on a free loopback port, for the block."""
    values = {"stage": "dev", "internal_api_keys": [ADMIN_KEY], **settings}
    gateway = LocalGateway(
        {
            PUBLIC: create_public_app(PublicApiSettings(**values)),
            INTERNAL: create_internal_app(InternalApiSettings(**values)),
        }
    )
    server = uvicorn.Server(
        uvicorn.Config(gateway, host="127.0.0.1", port=0, log_level="warning", **SERVER_OPTIONS)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the gateway did not start"
        assert time.monotonic() < deadline, "the gateway did not start in time"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def call(
    port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None = None
) -> tuple[int, dict]:
    """One request with exactly these header lines, repeated names included."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_repeated_key_headers_are_joined_as_api_gateway_joins_them_and_refused():
    """The deployed API receives `a,b` for two `X-API-Key` lines: a request with two keys is 401 there,
    so it must not authenticate as the first one locally."""
    with serving(api_key=PUBLIC_KEY) as port:
        assert call(port, "GET", "/v1/auth/status", [("X-API-Key", PUBLIC_KEY)])[0] == 200
        for keys in (
            [PUBLIC_KEY, "wrong-key-0000"],
            ["wrong-key-0000", PUBLIC_KEY],
            [PUBLIC_KEY, PUBLIC_KEY],
        ):
            status, body = call(port, "GET", "/v1/auth/status", [("X-API-Key", key) for key in keys])
            assert (status, body["error_code"]) == (401, "AUTHENTICATION_ERROR"), keys
        status, body = call(
            port, "GET", "/internal/monitoring/health", [("X-API-Key", ADMIN_KEY), ("X-API-Key", "wrong")]
        )
        assert (status, body["error_code"]) == (401, "AUTHENTICATION_ERROR")


def test_open_mode_limits_each_client_by_its_connection_not_by_x_forwarded_for():
    request = json.dumps({"text": TEXT, "operation": "sentiment"}).encode()
    with serving(api_key="", rate_limit_per_minute=2) as port:
        statuses = [
            call(
                port, "POST", "/v1/text_processing/process", [("X-Forwarded-For", f"203.0.113.{n}")], request
            )[0]
            for n in range(4)
        ]
    assert statuses == [200, 200, 429, 429]
