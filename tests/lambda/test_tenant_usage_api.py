"""Usage as the caller and the operator see it, through both functions' lambda_handlers: `GET /v1/usage`,
`GET /internal/keys/{key_id}/usage`, the billing export `GET /internal/usage`; a key's own job list; and
the metering of every authenticated request (job reads and cancels, quota refusals that spend nothing)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest

from fakes.api_contract import PUBLIC_KEY, SECOND_PUBLIC_KEY
from fakes.tenants import JOBS, PROCESS, TEXT, assert_refused, auth
from textapi_shared.security.api_keys import key_hash

USAGE_FIELDS = {
    "key_id",
    "name",
    "day",
    "month",
    "requests",
    "ai_calls",
    "cache_hits",
    "tokens_saved",
    "estimated_cost_usd",
}
DAY_FIELDS = {"date", "tokens_billed", "budget", "remaining", "resets_at"}
MONTH_FIELDS = {"month", "tokens_billed", "budget", "remaining", "resets_at"}
ROW_FIELDS = {
    "date",
    "requests",
    "ai_calls",
    "cache_hits",
    "prompt_tokens",
    "output_tokens",
    "tokens_billed",
    "tokens_saved",
    "estimated_cost_usd",
}
JOB_FIELDS = {
    "job_id",
    "batch_id",
    "status",
    "total_requests",
    "completed",
    "failed",
    "cancelled",
    "pending",
    "created_at",
}


def today() -> date:
    return datetime.now(UTC).date()


def utc_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job(count: int = 1, tag: str = "") -> dict:
    return {"requests": [{"text": f"{TEXT} {tag} {i}", "operation": "summarize"} for i in range(count)]}


# -- the caller's view -------------------------------------------------------------------------------------


def test_usage_reports_today_and_this_month_against_the_budgets(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, secret = api.create_key(name="Bakery app", token_budget={"daily": 50_000, "monthly": 900_000})
    billed = int(api.process(secret).headers["x-tokens-billed"])
    assert api.process(secret).headers["x-cache"] == "hit"
    answer = api.usage(secret)
    assert answer.status_code == 200, answer.text
    usage = answer.json()
    assert set(usage) == USAGE_FIELDS
    assert (set(usage["day"]), set(usage["month"])) == (DAY_FIELDS, MONTH_FIELDS)
    assert (usage["key_id"], usage["name"]) == (key_id, "Bakery app")

    now = datetime.now(UTC)
    midnight = calendar.timegm((now.year, now.month, now.day, 0, 0, 0)) + 86_400
    next_month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    assert usage["day"] == {
        "date": today().isoformat(),
        "tokens_billed": billed,
        "budget": 50_000,
        "remaining": 50_000 - billed,
        "resets_at": utc_iso(midnight),
    }
    assert usage["month"] == {
        "month": now.strftime("%Y-%m"),
        "tokens_billed": billed,
        "budget": 900_000,
        "remaining": 900_000 - billed,
        "resets_at": utc_iso(calendar.timegm((*next_month, 1, 0, 0, 0))),
    }
    counts = (usage["requests"], usage["ai_calls"], usage["cache_hits"], usage["tokens_saved"])
    assert counts == (2, 1, 1, billed)
    assert usage["estimated_cost_usd"] == 0.0  # the offline provider


def test_usage_budget_and_remaining_are_null_when_unlimited(deployment):
    api = deployment()
    _, secret = api.create_key(token_budget={"monthly": 1_000})
    usage = api.usage(secret).json()
    assert (usage["day"]["budget"], usage["day"]["remaining"]) == (None, None)
    assert (usage["month"]["budget"], usage["month"]["remaining"]) == (1_000, 1_000)
    assert (usage["day"]["tokens_billed"], usage["requests"]) == (0, 0)


def test_a_static_key_reads_its_usage_by_its_hash(deployment, keys_backend):
    api = deployment(**keys_backend)
    billed = int(api.process(PUBLIC_KEY).headers["x-tokens-billed"])
    answer = api.usage(PUBLIC_KEY)
    assert answer.status_code == 200, answer.text
    usage = answer.json()
    assert set(usage) == USAGE_FIELDS
    assert (usage["key_id"], usage["name"]) == (key_hash(PUBLIC_KEY), None)
    assert (usage["day"]["tokens_billed"], usage["day"]["budget"], usage["month"]["remaining"]) == (
        billed,
        None,
        None,
    )
    assert api.usage(SECOND_PUBLIC_KEY).json()["day"]["tokens_billed"] == 0  # each key its own


def test_usage_is_metered_as_a_read(deployment):
    api = deployment()
    _, secret = api.create_key(rate_limit_per_minute=1)
    answers = [api.usage(secret) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert all(a.headers["x-ratelimit-limit"] == "1" for a in answers)
    assert_refused(answers[-1], 429, "RATE_LIMIT_EXCEEDED")
    assert_refused(api.usage(None), 401, "AUTHENTICATION_ERROR")


# -- the operator's views ----------------------------------------------------------------------------------


def test_key_usage_has_one_row_per_day_with_use(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, secret = api.create_key()
    miss = api.process(secret).json()["metadata"]
    api.process(secret)
    answer = api.admin("GET", f"/internal/keys/{key_id}/usage")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"key_id", "days"}
    [day] = body["days"]
    assert set(day) == ROW_FIELDS
    assert day == {
        "date": today().isoformat(),
        "requests": 2,
        "ai_calls": 1,
        "cache_hits": 1,
        "prompt_tokens": miss["prompt_tokens"],
        "output_tokens": miss["output_tokens"],
        "tokens_billed": miss["tokens_billed"],
        "tokens_saved": miss["tokens_billed"],
        "estimated_cost_usd": 0.0,
    }
    first, last = today() - timedelta(days=91), today()
    span = api.admin("GET", f"/internal/keys/{key_id}/usage", **{"from": first, "to": last})
    assert span.status_code == 200, span.text
    assert span.json()["days"] == [day]
    before = api.admin("GET", f"/internal/keys/{key_id}/usage", **{"from": "2020-01-01", "to": "2020-01-31"})
    assert before.json() == {"key_id": key_id, "days": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-01", "to": "2026-01-31"}, "from"),
        ({"from": "2026-01-01", "to": "2026-04-03"}, "from"),  # 93 days
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-01-01T00:00:00Z"}, "from"),
    ],
)
def test_key_usage_refuses_a_bad_range(deployment, query, field):
    api = deployment()
    key_id, _ = api.create_key()
    refused = assert_refused(
        api.admin("GET", f"/internal/keys/{key_id}/usage", **query), 422, "VALIDATION_ERROR"
    )
    [error] = refused["details"]["errors"]
    assert (error["field"], error["location"]) == (field, ["query", field])


def test_key_usage_takes_92_days_at_most(deployment):
    api = deployment()
    key_id, _ = api.create_key()
    path = f"/internal/keys/{key_id}/usage"
    assert api.admin("GET", path, **{"from": "2026-01-01", "to": "2026-04-02"}).status_code == 200
    assert_refused(
        api.admin("GET", path, **{"from": "2025-12-31", "to": "2026-04-02"}), 422, "VALIDATION_ERROR"
    )


def test_key_usage_of_an_unknown_key_is_404(deployment):
    api = deployment()
    assert_refused(api.admin("GET", "/internal/keys/key_0123456789abcdef/usage"), 404, "NOT_FOUND")
    assert_refused(api.admin("GET", "/internal/keys/key_xyz/usage"), 422, "VALIDATION_ERROR")


def test_the_billing_export_has_one_row_per_key_with_use_that_day(deployment, keys_backend):
    api = deployment(**keys_backend)
    busy_id, busy = api.create_key(name="Busy")
    api.create_key(name="Idle")
    busy_billed = int(api.process(busy).headers["x-tokens-billed"])
    api.process(busy)
    static_billed = int(api.process(PUBLIC_KEY, text=f"{TEXT} Static.").headers["x-tokens-billed"])

    answer = api.admin("GET", "/internal/usage", date=today().isoformat())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (set(body), body["date"]) == ({"date", "keys"}, today().isoformat())
    rows = {row["key_id"]: row for row in body["keys"]}
    assert set(rows) == {busy_id, key_hash(PUBLIC_KEY)}  # the idle key and the idle static key: no row
    assert all(set(row) == ROW_FIELDS | {"key_id"} for row in rows.values())
    busy_row = rows[busy_id]
    assert (busy_row["requests"], busy_row["ai_calls"], busy_row["cache_hits"]) == (2, 1, 1)
    assert (busy_row["tokens_billed"], busy_row["tokens_saved"]) == (busy_billed, busy_billed)
    static_row = rows[key_hash(PUBLIC_KEY)]
    assert (static_row["requests"], static_row["tokens_billed"]) == (1, static_billed)
    assert api.admin("GET", "/internal/usage", date="2020-01-01").json() == {"date": "2020-01-01", "keys": []}


@pytest.mark.parametrize("query", [{}, {"date": "2026-02-30"}, {"date": "today"}])
def test_the_billing_export_needs_a_date(deployment, query):
    refused = assert_refused(deployment().admin("GET", "/internal/usage", **query), 422, "VALIDATION_ERROR")
    assert refused["details"]["errors"][0]["location"] == ["query", "date"]


# -- a key's jobs ------------------------------------------------------------------------------------------


def test_a_key_lists_its_own_jobs_newest_first(deployment):
    api = deployment()
    _, mine = api.create_key()
    _, theirs = api.create_key()
    submitted = []
    for count in (1, 2, 3):
        answer = api.call("POST", JOBS, mine, job(count, tag=str(count)))
        assert answer.status_code == 202, answer.text
        submitted.append(answer.json())
    other = api.call("POST", JOBS, theirs, job(1)).json()
    static = api.call("POST", JOBS, PUBLIC_KEY, job(1)).json()
    for done in submitted:
        api.wait_for_job(mine, done["job_id"])

    listed = api.call("GET", JOBS, mine)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert set(body) == {"jobs", "next_token"}
    assert [j["job_id"] for j in body["jobs"]] == [j["job_id"] for j in reversed(submitted)]
    assert body["next_token"] is None
    for summary, original in zip(body["jobs"], reversed(submitted), strict=True):
        assert set(summary) == JOB_FIELDS
        assert (summary["batch_id"], summary["created_at"]) == (original["batch_id"], original["created_at"])
        assert (summary["status"], summary["total_requests"]) == ("completed", original["total_requests"])
        counts = (summary["completed"], summary["failed"], summary["cancelled"], summary["pending"])
        assert counts == (original["total_requests"], 0, 0, 0)
    assert [j["job_id"] for j in api.call("GET", JOBS, theirs).json()["jobs"]] == [other["job_id"]]
    assert [j["job_id"] for j in api.call("GET", JOBS, PUBLIC_KEY).json()["jobs"]] == [static["job_id"]]
    assert api.call("GET", JOBS, SECOND_PUBLIC_KEY).json() == {"jobs": [], "next_token": None}
    # Another key's job is not found, whichever route asks.
    assert_refused(api.call("GET", f"{JOBS}/{other['job_id']}", mine), 404, "NOT_FOUND")
    assert_refused(api.call("DELETE", f"{JOBS}/{other['job_id']}", mine), 404, "NOT_FOUND")


def test_the_job_list_pages(deployment):
    api = deployment()
    _, secret = api.create_key()
    ids = [api.call("POST", JOBS, secret, job(1, tag=str(i))).json()["job_id"] for i in range(5)]
    seen, token = [], None
    while True:
        page = api.call("GET", JOBS, secret, limit=2, next_token=token)
        assert page.status_code == 200, page.text
        assert len(page.json()["jobs"]) <= 2
        seen += [j["job_id"] for j in page.json()["jobs"]]
        token = page.json()["next_token"]
        if token is None:
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    ("query", "field"),
    [({"next_token": "nonsense"}, "next_token"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit")],
)
def test_the_job_list_refuses_a_bad_page_query(deployment, query, field):
    api = deployment()
    _, secret = api.create_key()
    refused = assert_refused(api.call("GET", JOBS, secret, **query), 422, "VALIDATION_ERROR")
    assert refused["details"]["errors"][0]["field"] == field


# -- every authenticated request is metered ----------------------------------------------------------------


def test_job_reads_and_cancels_count_against_the_per_minute_limit(deployment):
    api = deployment()
    _, secret = api.create_key(rate_limit_per_minute=2)
    submitted = api.call("POST", JOBS, secret, job(2))
    assert submitted.status_code == 202, submitted.text
    assert (submitted.headers["x-ratelimit-limit"], submitted.headers["x-ratelimit-remaining"]) == ("2", "1")
    job_id = submitted.json()["job_id"]
    reads = [
        api.call("GET", f"{JOBS}/{job_id}", secret),
        api.call("GET", JOBS, secret),
        api.call("DELETE", f"{JOBS}/{job_id}", secret),
        api.call("GET", f"{JOBS}/{job_id}", secret),
    ]
    assert [r.status_code for r in reads] == [200] * 4
    for read in reads:
        assert set(read.headers) >= {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}
        assert read.headers["x-ratelimit-limit"] == "2"
    assert [r.headers["x-ratelimit-remaining"] for r in reads] == ["0", "0", "0", "0"]  # 1.75 ... 1 left
    refused = api.call("GET", f"{JOBS}/{job_id}", secret)
    assert_refused(refused, 429, "RATE_LIMIT_EXCEEDED")
    assert int(refused.headers["retry-after"]) > 0
    assert_refused(api.call("DELETE", f"{JOBS}/{job_id}", secret), 429, "RATE_LIMIT_EXCEEDED")
    assert_refused(api.process(secret), 429, "RATE_LIMIT_EXCEEDED")


def test_a_job_refused_by_the_item_quota_spends_nothing(deployment):
    api = deployment(public={"job_items_per_hour": 3})
    _, secret = api.create_key(rate_limit_per_minute=10)
    first = api.call("POST", JOBS, secret, job(2))
    assert (first.status_code, first.headers["x-ratelimit-remaining"]) == (202, "9")
    for _ in range(3):
        refused = api.call("POST", JOBS, secret, job(2, tag="over"))
        body = assert_refused(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert body["details"]["limit"] == 3
        assert int(refused.headers["retry-after"]) > 0
    # Neither the per-minute limit nor the item quota was spent by the refusals.
    second = api.call("POST", JOBS, secret, job(1, tag="fits"))
    assert (second.status_code, second.headers["x-ratelimit-remaining"]) == (202, "8")
    assert len(api.call("GET", JOBS, secret).json()["jobs"]) == 2


def test_a_refused_scope_spends_nothing(deployment):
    api = deployment()
    _, secret = api.create_key(scopes=["summarize"], rate_limit_per_minute=2)
    for _ in range(4):
        assert_refused(api.process(secret, operation="sentiment"), 403, "AUTHORIZATION_ERROR")
        assert_refused(api.call("GET", JOBS, secret), 403, "AUTHORIZATION_ERROR")
    answers = [api.process(secret, text=f"{TEXT} {i}") for i in range(2)]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["1", "0"]


def test_auth_status_is_metered_as_a_read(deployment):
    api = deployment()
    _, secret = api.create_key(rate_limit_per_minute=1)
    answers = [api.call("GET", "/v1/auth/status", secret) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert all(a.headers["x-ratelimit-limit"] == "1" for a in answers)
    assert_refused(answers[-1], 429, "RATE_LIMIT_EXCEEDED")


def test_the_operations_catalogue_is_metered_when_a_key_is_presented(deployment):
    api = deployment()
    _, secret = api.create_key(rate_limit_per_minute=1)
    answers = [api.call("GET", "/v1/text_processing/operations", secret) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert all(a.headers["x-ratelimit-limit"] == "1" for a in answers)
    anonymous = api.public.request("GET", "/v1/text_processing/operations")
    assert anonymous.status_code == 200
    assert "x-ratelimit-limit" not in anonymous.headers  # nobody to meter


def test_an_idempotent_replay_is_metered_as_a_read(deployment):
    api = deployment()
    _, secret = api.create_key(rate_limit_per_minute=2)
    headers = {**auth(secret), "Idempotency-Key": "order-7"}
    body = {"text": TEXT, "operation": "summarize"}
    answers = [api.public.request("POST", PROCESS, json_body=body, headers=headers) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 429]
    assert [a.headers.get("idempotent-replayed") for a in answers[:5]] == [
        None,
        "true",
        "true",
        "true",
        "true",
    ]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["1", "0", "0", "0", "0", "0"]
    assert_refused(answers[-1], 429, "RATE_LIMIT_EXCEEDED")
