"""Token metering and budgets of key records, through both functions' lambda_handlers and the fake Gemini:
what a response says it billed (`metadata.tokens_billed`, `X-Tokens-Billed`, `X-Cache`), what the key is
billed for it, and the refusals of a budget: 429 `BUDGET_EXCEEDED` when it does not fit, 503 when its store
cannot be reached."""

from __future__ import annotations

import asyncio
import calendar
import time
from datetime import UTC, datetime

import pytest

from fakes.api_contract import PUBLIC_KEY
from fakes.gemini_server import Delay, Fail, Reply
from fakes.tenants import JOBS, PROCESS, TEXT, Deployment, assert_refused, auth, gemini_settings
from public_api.services.prompts import PROMPT_VERSION
from textapi_shared.cache.keys import cache_key

REPLIES = {
    "summarize": Reply(text="A park replaces the rail yard."),
    "sentiment": Reply(json={"sentiment": "positive", "confidence": 0.8, "explanation": "A new park."}),
    "key_points": Reply(json={"key_points": ["A park", "A pond"]}),
    "questions": Reply(json={"questions": ["When does the park open?"]}),
    "qa": Reply(text="Next spring."),
}


def extra_for(operation: str) -> dict:
    return {"question": "When does the park open?"} if operation == "qa" else {}


def seconds_to_utc_midnight() -> float:
    now = time.time()
    return (now // 86_400 + 1) * 86_400 - now


def seconds_to_next_utc_month() -> float:
    now = datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) - time.time()


# -- what a response bills ---------------------------------------------------------------------------------


def test_a_miss_bills_the_calls_tokens_and_a_hit_bills_nothing(gemini_deployment, fake_gemini, keys_backend):
    api = gemini_deployment(**keys_backend)
    _, secret = api.create_key()
    fake_gemini.enqueue(Reply(text="A park replaces the rail yard.", prompt_tokens=120, output_tokens=30))
    miss = api.process(secret)
    assert miss.status_code == 200, miss.text
    assert (miss.headers["x-cache"], miss.headers["x-tokens-billed"]) == ("miss", "150")
    metadata = miss.json()["metadata"]
    assert (metadata["prompt_tokens"], metadata["output_tokens"]) == (120, 30)
    assert (metadata["tokens_billed"], metadata["tokens_saved"], metadata["cache"]) == (150, 0, "miss")

    hit = api.process(secret)
    assert hit.status_code == 200, hit.text
    assert (hit.headers["x-cache"], hit.headers["x-tokens-billed"]) == ("hit", "0")
    metadata = hit.json()["metadata"]
    assert (metadata["tokens_billed"], metadata["tokens_saved"], metadata["cache"]) == (0, 150, "hit")
    assert hit.json()["cache_hit"] is True
    assert fake_gemini.request_count == 1

    usage = api.usage(secret).json()
    assert (usage["day"]["tokens_billed"], usage["month"]["tokens_billed"]) == (150, 150)
    counts = (usage["requests"], usage["ai_calls"], usage["cache_hits"], usage["tokens_saved"])
    assert counts == (2, 1, 1, 150)


def test_thinking_tokens_are_billed_as_output(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    key_id, secret = api.create_key()
    fake_gemini.enqueue(Reply(text="A park.", prompt_tokens=100, output_tokens=20, thoughts_tokens=300))
    answer = api.process(secret)
    assert answer.status_code == 200, answer.text
    metadata = answer.json()["metadata"]
    tokens = (metadata["prompt_tokens"], metadata["output_tokens"], metadata["tokens_billed"])
    assert tokens == (100, 320, 420)
    assert answer.headers["x-tokens-billed"] == "420"
    [day] = api.admin("GET", f"/internal/keys/{key_id}/usage").json()["days"]
    assert (day["prompt_tokens"], day["output_tokens"], day["tokens_billed"]) == (100, 320, 420)


@pytest.mark.parametrize("operation", list(REPLIES))
def test_every_operation_caps_its_output_and_bills_it(gemini_deployment, fake_gemini, operation):
    api = gemini_deployment()
    _, secret = api.create_key(token_budget={"daily": 1_000_000})
    reply = REPLIES[operation]
    fake_gemini.enqueue(Reply(text=reply.text, json=reply.json, prompt_tokens=90, output_tokens=11))
    answer = api.process(secret, operation=operation, **extra_for(operation))
    assert answer.status_code == 200, answer.text
    assert (answer.headers["x-tokens-billed"], answer.headers["x-cache"]) == ("101", "miss")
    assert answer.json()["metadata"]["tokens_billed"] == 101
    [request] = fake_gemini.requests
    cap = request.body["generationConfig"]["maxOutputTokens"]
    assert isinstance(cap, int)
    assert cap > 0
    assert api.usage(secret).json()["day"]["tokens_billed"] == 101


@pytest.mark.parametrize(
    ("operation", "small", "large"),
    [
        ("summarize", {"max_length": 10}, {"max_length": 500}),
        ("key_points", {"max_points": 1}, {"max_points": 20}),
        ("questions", {"num_questions": 1}, {"num_questions": 20}),
    ],
)
def test_the_output_cap_follows_the_operations_options(
    gemini_deployment, fake_gemini, operation, small, large
):
    api = gemini_deployment()
    _, secret = api.create_key()
    fake_gemini.enqueue(REPLIES[operation], REPLIES[operation])
    for options in (small, large):
        assert api.process(secret, operation=operation, options=options).status_code == 200
    caps = [request.body["generationConfig"]["maxOutputTokens"] for request in fake_gemini.requests]
    assert caps[0] < caps[1]


def test_a_retried_call_bills_both_calls(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key(token_budget={"daily": 1_000_000})
    unusable = Reply(json={"sentiment": "ecstatic", "confidence": 2}, prompt_tokens=100, output_tokens=20)
    usable = Reply(json=REPLIES["sentiment"].json, prompt_tokens=100, output_tokens=10)
    fake_gemini.enqueue(unusable, usable)
    answer = api.process(secret, operation="sentiment")
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-tokens-billed"] == "230"
    assert answer.json()["metadata"]["tokens_billed"] == 230
    usage = api.usage(secret).json()
    assert (usage["ai_calls"], usage["day"]["tokens_billed"]) == (2, 230)


def test_estimated_cost_follows_ai_model_prices(gemini_deployment, fake_gemini):
    prices = '{"gemini-2.5-flash": {"input_per_million": 1.0, "output_per_million": 10.0}}'
    api = gemini_deployment(public={"ai_model_prices": prices})
    key_id, secret = api.create_key()
    fake_gemini.enqueue(Reply(text="A park.", prompt_tokens=1000, output_tokens=150, thoughts_tokens=50))
    assert api.process(secret).status_code == 200
    expected = (1000 * 1.0 + 200 * 10.0) / 1e6
    assert api.usage(secret).json()["estimated_cost_usd"] == pytest.approx(expected)
    [day] = api.admin("GET", f"/internal/keys/{key_id}/usage").json()["days"]
    assert day["estimated_cost_usd"] == pytest.approx(expected)


def test_estimated_cost_has_defaults_for_the_named_models(gemini_deployment, fake_gemini):
    api = gemini_deployment()  # gemini-2.5-flash: 0.30 in, 2.50 out per million tokens
    _, secret = api.create_key()
    fake_gemini.enqueue(Reply(text="A park.", prompt_tokens=1000, output_tokens=200))
    assert api.process(secret).status_code == 200
    assert api.usage(secret).json()["estimated_cost_usd"] == pytest.approx((1000 * 0.30 + 200 * 2.50) / 1e6)


def test_the_offline_provider_bills_its_estimate_at_no_cost(deployment):
    api = deployment()
    _, secret = api.create_key()
    answer = api.process(secret)
    assert answer.status_code == 200, answer.text
    billed = int(answer.headers["x-tokens-billed"])
    assert billed == answer.json()["metadata"]["tokens_billed"] > 0
    usage = api.usage(secret).json()
    assert (usage["day"]["tokens_billed"], usage["estimated_cost_usd"]) == (billed, 0.0)


def test_a_batch_bills_the_sum_of_its_items(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key()
    fake_gemini.enqueue(
        Reply(text="One.", prompt_tokens=100, output_tokens=1),
        Reply(text="Two.", prompt_tokens=200, output_tokens=2),
        Reply(text="Three.", prompt_tokens=300, output_tokens=3),
    )
    items = [{"text": f"{TEXT} Item {i}.", "operation": "summarize"} for i in range(3)]
    answer = api.batch(secret, items)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-tokens-billed"] == "606"
    billed = [result["response"]["metadata"]["tokens_billed"] for result in answer.json()["results"]]
    assert sorted(billed) == [101, 202, 303]
    again = api.batch(secret, items)  # every item a hit now
    assert again.headers["x-tokens-billed"] == "0"
    assert [r["response"]["metadata"]["cache"] for r in again.json()["results"]] == ["hit"] * 3
    usage = api.usage(secret).json()
    assert (usage["day"]["tokens_billed"], usage["cache_hits"], usage["tokens_saved"]) == (606, 3, 606)


def test_a_batch_item_that_shares_another_items_call_bills_nothing(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key()
    fake_gemini.default = Delay(0.2, then=Reply(text="A park.", prompt_tokens=100, output_tokens=10))
    answer = api.batch(secret, [{"text": TEXT, "operation": "summarize"}] * 2)
    assert answer.status_code == 200, answer.text
    assert fake_gemini.request_count == 1
    metadata = sorted(
        (r["response"]["metadata"] for r in answer.json()["results"]), key=lambda m: m["tokens_billed"]
    )
    assert [(m["cache"], m["tokens_billed"], m["tokens_saved"]) for m in metadata] == [
        ("shared", 0, 110),
        ("miss", 110, 0),
    ]
    assert answer.headers["x-tokens-billed"] == "110"
    usage = api.usage(secret).json()
    assert (usage["day"]["tokens_billed"], usage["ai_calls"], usage["tokens_saved"]) == (110, 1, 110)


def test_an_idempotent_replay_is_the_first_response_and_bills_nothing_again(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key()
    fake_gemini.enqueue(Reply(text="A park.", prompt_tokens=100, output_tokens=10))
    headers = {**auth(secret), "Idempotency-Key": "order-1"}
    body = {"text": TEXT, "operation": "summarize"}
    first, again = (api.public.request("POST", PROCESS, json_body=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.text == first.text
    for name in ("x-tokens-billed", "x-cache"):
        assert again.headers[name] == first.headers[name], name
    assert fake_gemini.request_count == 1
    assert api.usage(secret).json()["day"]["tokens_billed"] == 110


@pytest.mark.slow  # waits for a cache entry to go stale
def test_a_stale_answer_bills_nothing(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    key_id, secret = api.create_key(token_budget={"daily": 1_000_000})
    fake_gemini.enqueue(Reply(text="A park replaces the rail yard.", prompt_tokens=100, output_tokens=10))
    assert api.process(secret).status_code == 200
    services = api.public_services
    key = cache_key(
        operation="summarize",
        text=TEXT,
        options={"max_length": 100},
        question=None,
        provider="gemini",
        model=services.settings.ai_model,
        prompt_version=PROMPT_VERSION,
        scope=f"key:{key_id}",
    )

    async def age() -> None:
        entry = await services.cache.get(key)
        await services.cache.set(key, entry.value, ttl_s=1)

    asyncio.get_event_loop().run_until_complete(age())  # the loop Mangum runs the app on
    time.sleep(1.2)
    fake_gemini.enqueue(Fail(503))
    stale = api.process(secret)
    assert stale.status_code == 200, stale.text
    assert (stale.headers["x-cache"], stale.headers["x-tokens-billed"]) == ("stale", "0")
    metadata = stale.json()["metadata"]
    assert (metadata["stale"], metadata["tokens_billed"], metadata["tokens_saved"]) == (True, 0, 110)
    usage = api.usage(secret).json()
    assert (usage["day"]["tokens_billed"], usage["day"]["remaining"]) == (110, 1_000_000 - 110)
    assert usage["tokens_saved"] == 110


# -- budgets -----------------------------------------------------------------------------------------------


def test_a_daily_budget_refuses_with_retry_after_to_the_end_of_the_utc_day(
    gemini_deployment, fake_gemini, keys_backend
):
    api = gemini_deployment(**keys_backend)
    key_id, secret = api.create_key(token_budget={"daily": 100_000})
    fake_gemini.enqueue(Reply(text="A park.", prompt_tokens=100, output_tokens=10))
    assert api.process(secret).status_code == 200
    api.update_key(key_id, token_budget={"daily": 1000})
    refused = api.process(secret, text=f"{TEXT} Again.")
    body = assert_refused(refused, 429, "BUDGET_EXCEEDED")
    assert body["details"] == {"period": "day", "budget": 1000, "used": 110}
    assert "daily" in body["error"]
    retry_after = int(refused.headers["retry-after"])
    assert retry_after > 0
    assert abs(retry_after - seconds_to_utc_midnight()) <= 5
    assert fake_gemini.request_count == 1


def test_a_monthly_budget_refuses_with_retry_after_to_the_end_of_the_utc_month(
    gemini_deployment, fake_gemini, keys_backend
):
    api = gemini_deployment(**keys_backend)
    _, secret = api.create_key(token_budget={"daily": 1_000_000, "monthly": 500})
    refused = api.process(secret)
    body = assert_refused(refused, 429, "BUDGET_EXCEEDED")
    assert body["details"] == {"period": "month", "budget": 500, "used": 0}
    assert "monthly" in body["error"]
    retry_after = int(refused.headers["retry-after"])
    assert abs(retry_after - seconds_to_next_utc_month()) <= 5
    assert fake_gemini.request_count == 0


def test_a_refused_request_spends_nothing_of_the_rate_limit(gemini_deployment, fake_gemini, keys_backend):
    api = gemini_deployment(**keys_backend)
    key_id, secret = api.create_key(token_budget={"daily": 100_000}, rate_limit_per_minute=2)
    first = api.process(secret)
    assert (first.status_code, first.headers["x-ratelimit-remaining"]) == (200, "1")
    api.update_key(key_id, token_budget={"daily": 100})
    for i in range(5):
        assert_refused(api.process(secret, text=f"{TEXT} {i}"), 429, "BUDGET_EXCEEDED")
    assert fake_gemini.request_count == 1
    hit = api.process(secret)  # a hit bills no tokens: the budget does not stop it
    assert (hit.status_code, hit.headers["x-cache"]) == (200, "hit")
    assert hit.headers["x-ratelimit-remaining"] == "0"
    assert_refused(api.process(secret), 429, "RATE_LIMIT_EXCEEDED")


def test_a_request_over_the_rate_limit_gives_its_reservation_back(
    gemini_deployment, fake_gemini, keys_backend
):
    api = gemini_deployment(**keys_backend)
    key_id, secret = api.create_key(token_budget={"daily": 100_000}, rate_limit_per_minute=1)
    assert api.process(secret).status_code == 200
    assert_refused(api.process(secret, text=f"{TEXT} Again."), 429, "RATE_LIMIT_EXCEEDED")
    assert fake_gemini.request_count == 1
    api.update_key(key_id, rate_limit_per_minute=10)
    day = api.usage(secret).json()["day"]
    assert (day["tokens_billed"], day["remaining"]) == (15, 100_000 - 15)


def test_a_failed_ai_call_gives_its_reservation_back(gemini_deployment, fake_gemini, keys_backend):
    api = gemini_deployment(**keys_backend)
    _, secret = api.create_key(token_budget={"daily": 10_000, "monthly": 20_000})
    fake_gemini.enqueue(Fail(500), Fail(400))
    assert_refused(api.process(secret), 503, "SERVICE_UNAVAILABLE")
    assert_refused(api.process(secret), 502, "AI_SERVICE_ERROR")
    usage = api.usage(secret).json()
    assert (usage["day"]["tokens_billed"], usage["day"]["remaining"]) == (0, 10_000)
    assert (usage["month"]["tokens_billed"], usage["month"]["remaining"]) == (0, 20_000)
    assert usage["ai_calls"] == 0
    assert fake_gemini.request_count == 2
    assert api.process(secret).status_code == 200  # the whole budget is there for the next call


def test_batch_items_that_do_not_fit_the_budget_fail_and_the_others_complete(
    gemini_deployment, fake_gemini, keys_backend
):
    api = gemini_deployment(**keys_backend)
    # A budget that takes one call's upper estimate, not two: the first item's call is still in flight (the
    # fake Gemini waits) when the others reserve.
    _, tight = api.create_key(token_budget={"daily": 4000})
    fake_gemini.default = Delay(0.2, then=Reply(text="A park.", prompt_tokens=100, output_tokens=10))
    items = [{"text": f"{TEXT} Item {i}.", "operation": "summarize"} for i in range(3)]
    answer = api.batch(tight, items)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["completed"], body["failed"]) == (1, 2)
    failed = [r for r in body["results"] if r["status"] == "failed"]
    assert {r["error_code"] for r in failed} == {"BUDGET_EXCEEDED"}
    assert all(r["response"] is None and "budget" in r["error"] for r in failed)
    assert answer.headers["x-tokens-billed"] == "110"
    assert fake_gemini.request_count == 1
    assert api.usage(tight).json()["day"]["tokens_billed"] == 110


def test_a_batch_never_bills_more_than_the_budget(gemini_deployment, fake_gemini, keys_backend):
    api = gemini_deployment(**keys_backend, public={"batch_ai_concurrency_limit": 5})
    budget = 12_000
    _, secret = api.create_key(token_budget={"daily": budget})
    # Each call within its upper estimate (a prompt token per byte, the output cap), as real calls are.
    fake_gemini.default = Reply(text="A park.", prompt_tokens=250, output_tokens=2000)
    items = [{"text": f"{TEXT} Item {i}.", "operation": "summarize"} for i in range(10)]
    answer = api.batch(secret, items)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["completed"] >= 1
    assert {r["error_code"] for r in body["results"] if r["status"] == "failed"} <= {"BUDGET_EXCEEDED"}
    billed = int(answer.headers["x-tokens-billed"])
    assert billed == 2250 * body["completed"] <= budget
    assert api.usage(secret).json()["day"]["tokens_billed"] == billed


def test_job_items_that_do_not_fit_the_budget_fail_and_the_others_complete(
    gemini_deployment, fake_gemini, keys_backend
):
    api = gemini_deployment(**keys_backend)
    _, secret = api.create_key(token_budget={"daily": 4000})
    fake_gemini.default = Delay(0.2, then=Reply(text="A park.", prompt_tokens=100, output_tokens=10))
    items = [{"text": f"{TEXT} Item {i}.", "operation": "summarize"} for i in range(3)]
    submitted = api.call("POST", JOBS, secret, {"requests": items})
    assert submitted.status_code == 202, submitted.text
    done = api.wait_for_job(secret, submitted.json()["job_id"])
    assert (done["status"], done["completed"], done["failed"]) == ("completed_with_errors", 1, 2)
    assert {r["error_code"] for r in done["results"] if r["status"] == "failed"} == {"BUDGET_EXCEEDED"}
    assert fake_gemini.request_count == 1
    assert api.usage(secret).json()["day"]["tokens_billed"] == 110


def test_a_static_key_has_no_budget(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    fake_gemini.default = Reply(text="A park.", prompt_tokens=100_000, output_tokens=10)
    for i in range(3):
        answer = api.process(PUBLIC_KEY, text=f"{TEXT} {i}")
        assert (answer.status_code, answer.headers["x-tokens-billed"]) == (200, "100010")
    usage = api.usage(PUBLIC_KEY).json()
    assert usage["day"]["tokens_billed"] == 300_030
    assert (usage["day"]["budget"], usage["day"]["remaining"]) == (None, None)


# -- a budget store that cannot be reached -----------------------------------------------------------------


def test_a_key_with_a_budget_is_503_when_its_store_is_down_and_others_keep_working(
    keys_table, moto_endpoint, fake_gemini
):
    name, client = keys_table
    api = Deployment(
        keys_backend="dynamodb",
        keys_table_name=name,
        aws_endpoint_url=moto_endpoint,
        public=gemini_settings(fake_gemini),
    )
    _, budgeted = api.create_key(token_budget={"daily": 100_000})
    _, unlimited = api.create_key()
    for secret in (budgeted, unlimited, PUBLIC_KEY):  # each record now in the instance's key cache
        assert api.process(secret).status_code == 200
    assert api.usage(budgeted).json()["day"]["tokens_billed"] == 15
    calls = fake_gemini.request_count

    client.delete_table(TableName=name)
    refused = api.process(budgeted, text=f"{TEXT} Store down.")
    body = assert_refused(refused, 503, "SERVICE_UNAVAILABLE")
    assert int(refused.headers["retry-after"]) > 0
    assert name not in refused.text
    assert body["details"] == {}
    assert fake_gemini.request_count == calls  # budgets never fail open
    for secret in (unlimited, PUBLIC_KEY):
        answer = api.process(secret, text=f"{TEXT} Store down.")
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-tokens-billed"] == "15"
    hit = api.process(budgeted)  # a hit bills nothing: no budget to check
    assert (hit.status_code, hit.headers["x-cache"]) == (200, "hit")


def test_record_keys_are_503_and_static_keys_200_when_the_keys_table_is_missing(moto_endpoint, deployment):
    api = deployment(
        keys_backend="dynamodb", keys_table_name="textapi-keys-missing", aws_endpoint_url=moto_endpoint
    )
    refused = api.process("ta_" + "B" * 43)
    assert_refused(refused, 503, "SERVICE_UNAVAILABLE")
    assert int(refused.headers["retry-after"]) > 0
    assert "textapi-keys-missing" not in refused.text
    assert api.process(PUBLIC_KEY).status_code == 200
    assert api.call("GET", "/v1/auth/status", PUBLIC_KEY).status_code == 200


def test_usage_and_key_admin_are_503_when_the_store_is_down(keys_table, moto_endpoint, deployment):
    name, client = keys_table
    api = deployment(keys_backend="dynamodb", keys_table_name=name, aws_endpoint_url=moto_endpoint)
    key_id, secret = api.create_key()
    assert api.process(secret).status_code == api.process(PUBLIC_KEY).status_code == 200
    client.delete_table(TableName=name)
    today = datetime.now(UTC).date().isoformat()
    answers = [
        api.usage(secret),
        api.usage(PUBLIC_KEY),
        api.admin("GET", "/internal/keys"),
        api.admin("POST", "/internal/keys", {"name": "New"}),
        api.admin("GET", f"/internal/keys/{key_id}"),
        api.admin("PATCH", f"/internal/keys/{key_id}", {"status": "disabled"}),
        api.admin("DELETE", f"/internal/keys/{key_id}"),
        api.admin("GET", f"/internal/keys/{key_id}/usage"),
        api.admin("GET", "/internal/usage", date=today),
    ]
    for answer in answers:
        assert_refused(answer, 503, "SERVICE_UNAVAILABLE")
        assert int(answer.headers["retry-after"]) > 0
        assert name not in answer.text
