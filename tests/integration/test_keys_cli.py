"""infra/keys_cli.py against a real local gateway (the apps of `make run`, with a public and an admin key),
run as an operator runs it: a fresh interpreter per command, answers read from its stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from fakes.gateway_process import ROOT, GatewayProcess
from fakes.services import free_port

pytestmark = pytest.mark.slow  # a gateway process and an interpreter per command

CLI = ROOT / "infra" / "keys_cli.py"
ADMIN_KEY = "cli-admin-key-0123456789"
PUBLIC_KEY = "cli-public-key-0123456789"
TEXT = "Tide pools hold anemones, crabs and small fish. Twice a day the sea refills them with cold water."


@pytest.fixture(scope="module")
def gateway():
    env = {"API_KEY": PUBLIC_KEY, "INTERNAL_API_KEYS": ADMIN_KEY, "LOG_LEVEL": "ERROR"}
    with GatewayProcess(env | {"POWERTOOLS_METRICS_DISABLED": "true"}) as process:
        yield process


def keys(
    *args: str, url: str | None, admin_key: str | None = ADMIN_KEY, **env: str
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), **env}
    if admin_key is not None:
        env["TEXTAPI_ADMIN_KEY"] = admin_key
    where = ["--url", url] if url else []
    return subprocess.run(
        [sys.executable, str(CLI), *args, *where],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def status_of(url: str, api_key: str) -> int:
    request = urllib.request.Request(f"{url}/v1/auth/status", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def summarize(url: str, api_key: str) -> tuple[int, dict[str, str]]:
    body = json.dumps({"text": TEXT, "operation": "summarize", "options": {"max_length": 20}}).encode()
    request = urllib.request.Request(
        f"{url}/v1/text_processing/process",
        data=body,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers.items())


def test_a_key_from_creation_to_revocation(gateway):
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    created_run = keys(
        "create", "reports", "--tenant", tenant, "--scopes", "summarize,sentiment", "--rate-limit", "30",
        "--daily-budget", "100000", "--monthly-budget", "2000000", "--expires-at", "2099-01-01T00:00:00Z",
        "--prompt-guard", "log", "--metadata", "plan=gold", url=gateway.url,
    )  # fmt: skip
    created = ok(created_run)
    assert "shown this once" in created_run.stderr
    assert created["api_key"].startswith("ta_")
    key_id, secret = created["key_id"], created["api_key"]
    assert (created["name"], created["tenant"], created["status"]) == ("reports", tenant, "active")
    assert created["scopes"] == ["summarize", "sentiment"]
    assert created["token_budget"] == {"daily": 100000, "monthly": 2000000}
    assert (created["rate_limit_per_minute"], created["prompt_guard"]) == (30, "log")
    assert created["expires_at"].startswith("2099-01-01T00:00:00")
    assert created["metadata"] == {"plan": "gold"}
    assert status_of(gateway.url, secret) == 200

    listed = ok(keys("list", "--tenant", tenant, url=gateway.url))
    assert [record["key_id"] for record in listed["keys"]] == [key_id]
    assert "api_key" not in listed["keys"][0]
    shown = ok(keys("show", key_id, url=gateway.url))
    assert "api_key" not in shown
    assert shown["token_budget"] == created["token_budget"]

    # A budget changed alone keeps the other period's.
    updated = ok(keys("update", key_id, "--daily-budget", "5000", "--name", "reports-2", url=gateway.url))
    assert (updated["name"], updated["token_budget"]) == ("reports-2", {"daily": 5000, "monthly": 2000000})
    lifted = ok(keys("update", key_id, "--monthly-budget", "none", url=gateway.url))
    assert lifted["token_budget"] == {"daily": 5000, "monthly": None}

    assert ok(keys("disable", key_id, url=gateway.url))["status"] == "disabled"
    assert status_of(gateway.url, secret) == 401
    assert ok(keys("enable", key_id, url=gateway.url))["status"] == "active"
    assert status_of(gateway.url, secret) == 200

    rotated_run = keys("rotate", key_id, "--grace-seconds", "600", url=gateway.url)
    rotated = ok(rotated_run)
    assert rotated["key_id"] == key_id
    assert rotated["api_key"] not in (secret, None)
    assert "the previous one works until" in rotated_run.stderr
    until = datetime.fromisoformat(rotated["previous_valid_until"])
    assert 590 <= (until - datetime.now(UTC)).total_seconds() <= 600
    assert (status_of(gateway.url, secret), status_of(gateway.url, rotated["api_key"])) == (200, 200)

    revoked = ok(keys("revoke", key_id, url=gateway.url))
    assert revoked["status"] == "revoked"
    assert (status_of(gateway.url, secret), status_of(gateway.url, rotated["api_key"])) == (401, 401)
    assert ok(keys("show", key_id, url=gateway.url))["status"] == "revoked"


def test_rotation_without_grace_voids_the_old_secret_at_once(gateway):
    created = ok(keys("create", "no-grace", url=gateway.url))
    rotated_run = keys("rotate", created["key_id"], "--grace-seconds", "0", url=gateway.url)
    rotated = ok(rotated_run)
    assert "no longer works" in rotated_run.stderr
    assert status_of(gateway.url, rotated["api_key"]) == 200
    assert status_of(gateway.url, created["api_key"]) == 401


def test_usage_shows_the_calls_a_key_made_and_the_days_export(gateway):
    created = ok(keys("create", "metered", "--tenant", "usage-test", url=gateway.url))
    status, headers = summarize(gateway.url, created["api_key"])
    assert status == 200
    billed = int(headers["x-tokens-billed"])
    assert billed > 0
    today = datetime.now(UTC).date().isoformat()

    usage = ok(keys("usage", created["key_id"], url=gateway.url))
    assert usage["key_id"] == created["key_id"]
    [day] = usage["days"]
    assert (day["date"], day["requests"], day["ai_calls"], day["tokens_billed"]) == (today, 1, 1, billed)
    ranged = ok(keys("usage", created["key_id"], "--from", today, "--to", today, url=gateway.url))
    assert ranged["days"] == usage["days"]

    export = ok(keys("usage", "--date", today, url=gateway.url))
    assert export["date"] == today
    rows = {row["key_id"]: row for row in export["keys"]}
    assert rows[created["key_id"]]["tokens_billed"] == billed


def test_list_pages_and_all_follows_every_page(gateway):
    tenant = f"paged-{uuid.uuid4().hex[:8]}"
    ids = {ok(keys("create", f"key-{n}", "--tenant", tenant, url=gateway.url))["key_id"] for n in range(3)}
    first = ok(keys("list", "--tenant", tenant, "--limit", "2", url=gateway.url))
    assert len(first["keys"]) == 2
    assert first["next_token"]
    second = ok(
        keys("list", "--tenant", tenant, "--limit", "2", "--next-token", first["next_token"], url=gateway.url)
    )
    assert second["next_token"] is None
    assert {r["key_id"] for r in first["keys"] + second["keys"]} == ids
    every = ok(keys("list", "--tenant", tenant, "--limit", "2", "--all", url=gateway.url))
    assert ({r["key_id"] for r in every["keys"]}, every["next_token"]) == (ids, None)


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (("show", "key_0123456789abcdef"), ["error: HTTP 404 NOT_FOUND: No key 'key_0123456789abcdef'."]),
        (("revoke", "key_0123456789abcdef"), ["error: HTTP 404 NOT_FOUND: No key 'key_0123456789abcdef'."]),
        (
            ("show", "not-a-key-id"),
            ["error: HTTP 422 VALIDATION_ERROR: invalid request", "  key_id: String should match pattern"],
        ),
        (
            ("create", "bad", "--scopes", "summarize,translate", "--daily-budget", "0"),
            [
                "error: HTTP 422 VALIDATION_ERROR: invalid request",
                "  scopes.1: Input should be 'summarize', 'sentiment', 'key_points', 'questions', 'qa' or",
                "  token_budget.daily: Input should be greater than or equal to 1",
            ],
        ),
        (
            ("rotate", "key_0123456789abcdef", "--grace-seconds", "604801"),
            [
                "error: HTTP 422 VALIDATION_ERROR: invalid request",
                "  grace_seconds: Input should be less than",
            ],
        ),
        (
            ("usage", "--date", "2026-02-30"),
            ["error: HTTP 422 VALIDATION_ERROR: invalid request", "  date: Input should be a valid date"],
        ),
    ],
)
def test_error_answers_are_printed_readably_with_exit_status_1(gateway, args, lines):
    result = keys(*args, url=gateway.url)
    assert result.returncode == 1
    assert result.stdout == ""
    printed = result.stderr.splitlines()
    for wanted, line in zip(lines, printed, strict=False):
        assert line.startswith(wanted), result.stderr
    assert printed[-1].startswith("  request_id: ")


@pytest.mark.parametrize(
    ("admin_key", "status"),
    [
        (None, "401 AUTHENTICATION_ERROR"),
        ("wrong-key", "401 AUTHENTICATION_ERROR"),
        (PUBLIC_KEY, "403 AUTHORIZATION_ERROR"),
    ],
)
def test_without_a_valid_admin_key_the_api_refuses(gateway, admin_key, status):
    result = keys("list", url=gateway.url, admin_key=admin_key)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: HTTP {status}: ")


def test_a_gateway_that_is_not_running_is_named_with_exit_status_3():
    url = f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens there
    result = keys("list", url=url)
    assert result.returncode == 3
    assert result.stderr.startswith(f"error: cannot reach {url}: ")
    assert "is `make run` running?" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("usage",), "usage needs a KEY_ID"),
        (("usage", "key_0123456789abcdef", "--date", "2026-12-01"), "--date exports every key's day"),
        (("update", "key_0123456789abcdef"), "nothing to change"),
        (("create", "x", "--rate-limit", "-1"), "must not be negative"),
        (
            ("list", "--env", "nowhere"),
            "no environment 'nowhere' in samconfig.toml; known: dev, prod, staging",
        ),
    ],
)
def test_usage_errors_exit_2_before_any_request(args, message):
    nowhere = f"http://127.0.0.1:{free_port()}"  # a request would exit 3, not 2
    result = keys(*args, url=None, TEXTAPI_URL=nowhere)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
