"""Key records across the fleet: one key's daily token budget hammered from every instance at once with
distinct texts bills at most the budget and leaves less than one request's estimate unused, refused
requests never reach the AI; the last room of a budget, asked for by every instance at once by calls that
use all they reserve, goes to exactly one; a key revoked through one instance's internal function stops on
every instance within `KEY_CACHE_SECONDS`."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fakes.gemini_server import Delay, Reply
from fleet.conftest import INSTANCES, KEY_CACHE_S
from public_api.schemas import TextProcessingRequest
from public_api.services.prompts import build_ai_request
from textapi_shared.ai.provider import Operation

if TYPE_CHECKING:
    from fakes.api_clients import ApiResponse
    from textapi_shared.ai.provider import AIRequest

BUDGET = 30_000  # tokens a UTC day
GEMINI_DELAY_S = 0.2  # each call holds its reservation this long, so the instances' reservations overlap
ANSWER_TOKENS, THINKING_TOKENS = 150, 450  # a quarter of the output maximum, thinking billed as output
LAST_ROOM_KEYS = 8  # one race for the last room per key
PER_INSTANCE_CAP = 40  # requests an instance sends before its first refusal (the budget admits ~35 in all)
FINAL_ROUNDS_CAP = 10
REVOCATION_MARGIN_S = 1.0  # scheduling on a busy two-core machine: one poll gap and one request's time
POLL_GAP_S = 0.05
FILLER = (
    "The committee reviewed the quarterly figures, the staffing plan and the vendor contracts, and asked "
    "for a revised timeline before the next meeting; members disagreed on the hiring freeze but agreed "
    "that the migration to the new billing platform should not slip past the end of the year."
)


def budget_text(marker: str, instance: int, n: int) -> str:
    """Distinct texts of one length (so one estimate fits them all), told apart on the fake's log."""
    return f"Budget text {instance}-{n:04d} {marker}. {FILLER}"


def ai_request(text: str) -> AIRequest:
    """The call the product makes for `text` (summarize, default options): its estimate is what a
    request reserves."""
    request = TextProcessingRequest(text=text, operation="summarize")
    options = request.resolved_options()
    return build_ai_request(
        Operation.SUMMARIZE, request.text, question=None, options=options, temperature=0.3, timeout_s=25.0
    )


def prompt_bytes(request: AIRequest) -> int:
    return len(request.system_instruction.encode()) + len(request.prompt.encode())


@dataclass(frozen=True)
class Sent:
    instance: int
    text: str
    sent_at: float  # time.monotonic()
    received_at: float
    response: ApiResponse

    @property
    def status(self) -> int:
        return self.response.status_code


def seconds_to_midnight() -> float:
    return 86_400 - time.time() % 86_400  # UTC days are whole multiples of 86,400 s (no leap seconds)


def wait_out_midnight() -> None:
    """One UTC day for the whole scenario: a daily budget renews at midnight."""
    if seconds_to_midnight() < 60:
        time.sleep(seconds_to_midnight() + 1)


def billed(seen: list[Sent]) -> int:
    """The tokens the answers say were billed (`X-Tokens-Billed` of each 200)."""
    return sum(int(s.response.headers["x-tokens-billed"]) for s in seen if s.status == 200)


def create_key(fleet, name: str, **settings: object) -> tuple[str, str]:
    created = fleet.admin(0, "/internal/keys", "POST", {"name": name, **settings})
    assert created.status_code == 201, created.text
    body = created.json()
    return body["key_id"], body["api_key"]


def test_a_daily_budget_hammered_from_every_instance_bills_at_most_the_budget_and_nearly_all_of_it(fleet):
    marker = uuid.uuid4().hex
    sendable = range(PER_INSTANCE_CAP + FINAL_ROUNDS_CAP)
    requests = [ai_request(budget_text(marker, i, n)) for i in range(INSTANCES) for n in sendable]
    estimate = max(request.token_estimate() for request in requests)
    max_output = requests[0].max_output_tokens
    # About four bytes a token, as Gemini's tokenizer on English prose; output a quarter of its maximum.
    prompt_tokens = math.ceil(max(prompt_bytes(r) for r in requests) / 4)
    per_call = prompt_tokens + ANSWER_TOKENS + THINKING_TOKENS
    assert per_call < estimate / 2, (per_call, estimate)  # reservations settle to much less: room frees
    assert INSTANCES * estimate < BUDGET < 20 * estimate, (estimate, BUDGET)  # several calls fit, not all
    wait_out_midnight()
    key_id, api_key = create_key(fleet, f"budget-{marker}", token_budget={"daily": BUDGET})

    fleet.gemini.reset()
    reply = Reply(
        text="The committee asked for a revised timeline.",
        prompt_tokens=prompt_tokens,
        output_tokens=ANSWER_TOKENS,
        thoughts_tokens=THINKING_TOKENS,
    )
    fleet.gemini.default = Delay(GEMINI_DELAY_S, then=reply)
    counters = [0] * INSTANCES

    def send(instance: int) -> Sent:
        text = budget_text(marker, instance, counters[instance])
        counters[instance] += 1
        sent_at = time.monotonic()
        response = fleet.process(instance, api_key, text)
        return Sent(instance, text, sent_at, time.monotonic(), response)

    def until_refused(instance: int) -> list[Sent]:
        seen: list[Sent] = []
        while len(seen) < PER_INSTANCE_CAP and (not seen or seen[-1].status == 200):
            seen.append(send(instance))
        return seen

    seen = [entry for entries in fleet.each(until_refused) for entry in entries]
    assert billed(seen) <= BUDGET, f"{billed(seen)} tokens billed on a budget of {BUDGET}"
    refused_by = {s.instance for s in seen if s.status == 429}
    assert refused_by == set(range(INSTANCES)), f"only instances {refused_by} were ever refused"
    # Nothing is in flight now: rounds from every instance at once until one finds no room anywhere.
    for _ in range(FINAL_ROUNDS_CAP):
        final = fleet.each(send)
        seen += final
        if all(s.status == 429 for s in final):
            break
    else:
        raise AssertionError(f"still admitting after {FINAL_ROUNDS_CAP} rounds")

    assert {s.status for s in seen} <= {200, 429}, {s.status: s.response.text for s in seen}
    admitted = [s for s in seen if s.status == 200]
    refused = [s for s in seen if s.status == 429]
    for s in refused:
        body = s.response.json()
        assert body["error_code"] == "BUDGET_EXCEEDED", body
        assert (body["details"]["period"], body["details"]["budget"]) == ("day", BUDGET)
        assert 1 <= int(s.response.headers["retry-after"]) <= seconds_to_midnight() + 5
    # The final round was refused with nothing in flight: what is committed is what is billed.
    for s in final:
        assert s.response.json()["details"]["used"] > BUDGET - estimate

    assert {s.response.headers["x-cache"] for s in admitted} == {"miss"}
    billed_headers = [int(s.response.headers["x-tokens-billed"]) for s in admitted]
    assert billed_headers == [s.response.json()["metadata"]["tokens_billed"] for s in admitted]
    assert set(billed_headers) == {per_call}  # what the fake reported, thinking billed as output
    total = billed(seen)
    usage = fleet.admin(1, f"/internal/keys/{key_id}/usage")
    assert usage.status_code == 200, usage.text
    days = usage.json()["days"]
    stored = sum(day["tokens_billed"] for day in days)
    assert (stored, sum(day["ai_calls"] for day in days)) == (total, len(admitted))
    assert BUDGET - estimate < total <= BUDGET, (total, BUDGET, estimate)
    mine = fleet.request(2, "GET", "/v1/usage", api_key)
    assert mine.status_code == 200, mine.text
    day = mine.json()["day"]
    # Every reservation settled or released: none is left holding budget.
    assert (day["tokens_billed"], day["budget"], day["remaining"]) == (total, BUDGET, BUDGET - total)

    calls = [r for r in fleet.gemini.requests if marker in str(r.body)]
    called = [text for text in (s.text for s in admitted) if any(text in str(r.body) for r in calls)]
    assert len(calls) == len(admitted) == len(called), "one AI call per admitted request, none more"
    assert not [s for s in refused if any(s.text in str(r.body) for r in calls)], "a refused request called"
    assert {r.body["generationConfig"]["maxOutputTokens"] for r in calls} == {max_output}
    # The reservations contended: refusals were answered while other instances' admitted calls were in
    # flight (holding their estimates), and every instance had calls admitted.
    assert any(
        a.instance != r.instance and a.sent_at < r.received_at and r.sent_at < a.received_at
        for r in refused
        for a in admitted
    ), "no refusal overlapped another instance's admitted call"
    assert len({a.instance for a in admitted}) == INSTANCES
    print(
        f"[{fleet.backend}] budget {BUDGET}, estimate {estimate}, per call {per_call}: billed {total} "
        f"in {len(admitted)} calls, {len(refused)} refused, "
        f"{sum(1 for r in refused if any(a.sent_at > r.received_at for a in admitted))} refusals before a "
        f"later admission"
    )


def test_the_last_room_of_a_budget_asked_for_by_every_instance_at_once_goes_to_exactly_one(fleet):
    """Calls that bill all they reserved (a byte a prompt token, the whole output maximum): any reservation
    that is not one atomic conditional step lets two instances take the one room and bill twice."""
    marker = uuid.uuid4().hex
    requests = [
        ai_request(budget_text(marker, i, n)) for i in range(INSTANCES) for n in range(LAST_ROOM_KEYS)
    ]
    estimate = max(request.token_estimate() for request in requests)
    assert {request.token_estimate() for request in requests} == {estimate}
    max_output = requests[0].max_output_tokens
    assert max_output is not None
    fleet.gemini.reset()
    fleet.gemini.default = Reply(
        text="The committee asked for a revised timeline.",
        prompt_tokens=prompt_bytes(requests[0]),
        output_tokens=max_output - THINKING_TOKENS,
        thoughts_tokens=THINKING_TOKENS,
    )
    wait_out_midnight()
    outcomes = []
    for n in range(LAST_ROOM_KEYS):
        key_id, api_key = create_key(fleet, f"last-room-{n}-{marker}", token_budget={"daily": estimate})
        answers = fleet.each(
            lambda i, n=n, api_key=api_key: fleet.process(i, api_key, budget_text(marker, i, n))
        )
        outcomes.append(sorted(r.status_code for r in answers))
        admitted = [r for r in answers if r.status_code == 200]
        days = fleet.admin(0, f"/internal/keys/{key_id}/usage").json()["days"]
        stored = sum(day["tokens_billed"] for day in days)
        assert stored == sum(int(r.headers["x-tokens-billed"]) for r in admitted), (stored, outcomes)
        assert stored <= estimate, f"{stored} tokens billed on a budget of {estimate}: {outcomes}"
        assert stored == estimate * len(admitted)  # each call billed all it reserved: the worst case
        for r in answers:
            if r.status_code == 429:
                assert r.json()["error_code"] == "BUDGET_EXCEEDED", r.text
    assert outcomes == [[200] + [429] * (INSTANCES - 1)] * LAST_ROOM_KEYS, outcomes
    calls = [r for r in fleet.gemini.requests if marker in str(r.body)]
    assert len(calls) == LAST_ROOM_KEYS  # the refused made no call


def test_a_key_revoked_through_one_instance_stops_on_every_instance_within_the_key_cache(fleet):
    marker = uuid.uuid4().hex
    key_id, api_key = create_key(fleet, f"revoke-{marker}")
    fleet.gemini.reset()
    fleet.gemini.default = Reply(text="Served.")
    counters = [0] * INSTANCES

    def ask(instance: int) -> tuple[float, ApiResponse]:
        counters[instance] += 1
        sent_at = time.monotonic()
        text = f"Revocation text {instance}-{counters[instance]} {marker}."
        return sent_at, fleet.process(instance, api_key, text)

    # Every instance serves the key and now holds its record in its cache.
    warm = fleet.each(ask)
    assert [r.status_code for _, r in warm] == [200] * INSTANCES, [r.text for _, r in warm]
    revoked = fleet.admin(0, f"/internal/keys/{key_id}", "DELETE")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    revoked_at = time.monotonic()

    def until_refused(instance: int) -> tuple[float | None, int]:
        """When the instance first refused (send time), and how many it still served before."""
        served = 0
        while time.monotonic() < revoked_at + KEY_CACHE_S + REVOCATION_MARGIN_S + 2:
            sent_at, response = ask(instance)
            if response.status_code == 401:
                assert response.json()["error_code"] == "AUTHENTICATION_ERROR"
                return sent_at, served
            assert response.status_code == 200, response.text
            served += 1
            time.sleep(POLL_GAP_S)
        return None, served

    outcomes = fleet.each(until_refused)
    latencies = [None if at is None else round(at - revoked_at, 3) for at, _ in outcomes]
    print(f"[{fleet.backend}] revocation latencies {latencies} s, served after it {[n for _, n in outcomes]}")
    assert None not in latencies, f"an instance still serves the revoked key: {latencies}"
    assert max(latencies) <= KEY_CACHE_S + REVOCATION_MARGIN_S, latencies
    # What was measured is the cache's expiry: instances went on serving their cached record for a while.
    assert any(served for _, served in outcomes), "no instance served from its cache after the revocation"
