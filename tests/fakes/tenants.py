"""One deployment's two functions, each through its real `lambda_handler` fed API Gateway v2 events, on
shared stores as two functions share them in AWS: the key records and billed usage (`KEYS_BACKEND`) and
the fleet state (requests, cache hits, tokens saved, rate limits).

By default both functions find key records through one `KeyResolver` (as `make run` does), so an admin
change is seen at once; `own_key_caches=True` gives each its own, as two Lambda functions have, with the
`clock` the caches expire by.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, SECOND_PUBLIC_KEY, assert_error_shape
from internal_api.composition import build_services as build_internal_services
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.composition import build_services as build_public_services
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.fleet.factory import build_fleet_state
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.tenancy.factory import build_tenancy_stores
from textapi_shared.tenancy.resolver import KeyResolver

if TYPE_CHECKING:
    from collections.abc import Callable

    from fakes.api_clients import ApiResponse
    from fakes.gemini_server import FakeGeminiServer

ADMIN = {"X-API-Key": ADMIN_KEY}
STATIC = {"X-API-Key": PUBLIC_KEY}
PROCESS = "/v1/text_processing/process"
BATCH = "/v1/text_processing/batch_process"
JOBS = "/v1/text_processing/jobs"
TEXT = (
    "The town council voted to turn the old rail yard into a park with a pond, a playground and a "
    "community garden, to be opened next spring after the soil has been cleaned."
)


def gemini_settings(server: FakeGeminiServer, **overrides: Any) -> dict[str, Any]:
    """The public function on the fake Gemini, one attempt per call (a 5xx is not retried)."""
    return {
        "ai_provider": "gemini",
        "gemini_api_key": server.api_key,
        "gemini_base_url": server.base_url,
        "resilience_custom_config": '{"retry_attempts": 1}',
        **overrides,
    }


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


class Deployment:
    def __init__(
        self,
        *,
        own_key_caches: bool = False,
        clock: Callable[[], float] | None = None,
        public: dict[str, Any] | None = None,
        internal: dict[str, Any] | None = None,
        **shared: Any,
    ) -> None:
        """`shared`: settings of both functions; `public` / `internal`: one function's own."""
        keyed = {
            "stage": "dev",
            "api_key": PUBLIC_KEY,
            "additional_api_keys": [SECOND_PUBLIC_KEY],
            "internal_api_keys": [ADMIN_KEY],
        }
        public_settings = PublicApiSettings(**{**keyed, **shared, **(public or {})})
        internal_settings = InternalApiSettings(**{**keyed, **shared, **(internal or {})})
        key_store, usage = build_tenancy_stores(public_settings)
        fleet = build_fleet_state(public_settings)
        ttl = public_settings.key_cache_seconds
        timing = {"clock": clock} if clock is not None else {}
        public_keys = KeyResolver(key_store, ttl_s=ttl, **timing)
        internal_keys = KeyResolver(key_store, ttl_s=ttl, **timing) if own_key_caches else public_keys
        self.public_services = build_public_services(
            public_settings, build_observability(public_settings), fleet=fleet, tenancy=(public_keys, usage)
        )
        internal_services = build_internal_services(
            internal_settings,
            build_observability(internal_settings),
            fleet=fleet,
            tenancy=(internal_keys, usage),
        )
        self.public = LambdaClient(create_public_app(public_settings, self.public_services))
        self.internal = LambdaClient(create_internal_app(internal_settings, internal_services))

    # -- the internal function ---------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None, **query: Any) -> ApiResponse:
        params = {name: str(value) for name, value in query.items() if value is not None}
        return self.internal.request(method, path, json_body=body, headers=ADMIN, query=params or None)

    def create_key(self, **fields: Any) -> tuple[str, str]:
        """A new key record with `fields` (a name by default): its id and its secret."""
        created = self.admin("POST", "/internal/keys", {"name": "Test tenant", **fields})
        assert created.status_code == 201, created.text
        return created.json()["key_id"], created.json()["api_key"]

    def update_key(self, key_id: str, **changes: Any) -> ApiResponse:
        changed = self.admin("PATCH", f"/internal/keys/{key_id}", changes)
        assert changed.status_code == 200, changed.text
        return changed

    # -- the public function -----------------------------------------------------------------------

    def call(
        self, method: str, path: str, api_key: str | None, body: Any = None, **query: Any
    ) -> ApiResponse:
        headers = auth(api_key) if api_key is not None else {}
        params = {name: str(value) for name, value in query.items() if value is not None}
        return self.public.request(method, path, json_body=body, headers=headers, query=params or None)

    def wait_for_job(self, api_key: str, job_id: str, timeout_s: float = 15.0) -> dict[str, Any]:
        """Poll until no item of the job is pending (each poll runs the function's loop, where the
        in-process worker runs); its status."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.call("GET", f"{JOBS}/{job_id}", api_key)
            assert status.status_code == 200, status.text
            if status.json()["pending"] == 0:
                return status.json()
            if time.monotonic() > deadline:
                raise AssertionError(f"job still pending: {status.text}")
            time.sleep(0.02)

    def process(
        self, api_key: str, text: str = TEXT, operation: str = "summarize", **fields: Any
    ) -> ApiResponse:
        return self.call("POST", PROCESS, api_key, {"text": text, "operation": operation, **fields})

    def batch(self, api_key: str, requests: list[dict[str, Any]]) -> ApiResponse:
        return self.call("POST", BATCH, api_key, {"requests": requests})

    def usage(self, api_key: str) -> ApiResponse:
        return self.call("GET", "/v1/usage", api_key)


def assert_refused(response: ApiResponse, status: int, code: str) -> dict[str, Any]:
    """`response` is the refusal `status` / `code` in the one error shape; its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert_error_shape(body, code, response.headers["x-request-id"])
    return body
