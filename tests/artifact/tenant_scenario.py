"""A tenant's life on the deployed layout, keys table on the moto server: created through the internal
function, a miss billed against its daily budget and a hit billed nothing, a job its worker bills, its
own usage, the operator's views, a budget cut that refuses the next call, a rotation, a revocation."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakes.gemini_server import FakeGeminiServer

TEXT = "A cooperative bakery opened a second shop and now sells rye bread to four village schools."
KEY_CACHE_SECONDS = 1  # the instances' KEY_CACHE_SECONDS in this scenario: changes land within it
DAILY_BUDGET = 50_000


def _process(public: Any, key: str, text: str) -> Any:
    body = {"text": text, "operation": "summarize"}
    return public.request("POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": key})


def run_tenant(
    public: Any, internal: Any, mapping: Any, admin: dict[str, str], gemini: FakeGeminiServer
) -> dict:
    seen: dict[str, Any] = {}
    seen["created"] = created = internal.request(
        "POST",
        "/internal/keys",
        json_body={"name": "Bakery app", "tenant": "bakery", "token_budget": {"daily": DAILY_BUDGET}},
        headers=admin,
    )
    key_id, key = created.json()["key_id"], created.json()["api_key"]
    seen["miss"] = _process(public, key, TEXT)
    seen["hit"] = _process(public, key, TEXT)

    job = {"requests": [{"text": f"{TEXT} Queued.", "operation": "summarize"}]}
    auth = {"X-API-Key": key}
    seen["job"] = public.request("POST", "/v1/text_processing/jobs", json_body=job, headers=auth)
    seen["job_delivery"] = mapping.deliver(mapping.receive())
    seen["job_status"] = public.request(
        "GET", f"/v1/text_processing/jobs/{seen['job'].json()['job_id']}", headers={"X-API-Key": key}
    )
    seen["own_jobs"] = public.request("GET", "/v1/text_processing/jobs", headers={"X-API-Key": key})
    seen["own_usage"] = public.request("GET", "/v1/usage", headers={"X-API-Key": key})
    seen["callback_secret"] = public.request(
        "GET", "/v1/text_processing/jobs/callback-secret", headers={"X-API-Key": key}
    )
    seen["listed"] = internal.request("GET", "/internal/keys?tenant=bakery", headers=admin)
    seen["key_usage"] = internal.request("GET", f"/internal/keys/{key_id}/usage", headers=admin)
    today = datetime.now(UTC).date().isoformat()
    seen["export"] = internal.request("GET", f"/internal/usage?date={today}", headers=admin)

    seen["cut"] = internal.request(
        "PATCH", f"/internal/keys/{key_id}", json_body={"token_budget": {"daily": 100}}, headers=admin
    )
    time.sleep(KEY_CACHE_SECONDS + 0.2)
    calls = gemini.request_count
    seen["over_budget"] = _process(public, key, f"{TEXT} Over budget.")
    seen["upstream_when_refused"] = gemini.request_count - calls

    seen["rotated"] = rotated = internal.request(
        "POST", f"/internal/keys/{key_id}/rotate", json_body={"grace_seconds": 600}, headers=admin
    )
    new_key = rotated.json()["api_key"]
    seen["old_key_in_grace"] = public.request("GET", "/v1/usage", headers={"X-API-Key": key})
    seen["new_key"] = public.request("GET", "/v1/usage", headers={"X-API-Key": new_key})
    seen["revoked"] = internal.request("DELETE", f"/internal/keys/{key_id}", headers=admin)
    time.sleep(KEY_CACHE_SECONDS + 0.2)
    seen["after_revoke"] = public.request("GET", "/v1/usage", headers={"X-API-Key": new_key})
    seen["key_id"] = key_id
    return seen
