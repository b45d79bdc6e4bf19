"""Fleet properties, counted on the fake Gemini's request log: one upstream call per distinct text across
instances, an exact fleet-wide sliding-window rate limit, a breaker opened in one instance stopping the
others within one sync interval, the fallback model answering everywhere, every batch item back once."""

from __future__ import annotations

import time
import uuid

from fakes.gemini_server import Delay, Fail, Reply
from fleet.conftest import FALLBACK, INSTANCES, PRIMARY, RATE_LIMIT

WINDOW_S = 60


def marked(request, marker: str) -> bool:
    """Whether a logged Gemini request carried a text with `marker` (scenarios tell their calls apart)."""
    return marker in str(request.body)


def test_k_texts_asked_by_n_instances_m_times_make_exactly_k_upstream_calls(fleet):
    key, marker = fleet.keys["texts"], uuid.uuid4().hex
    fleet.gemini.reset()
    fleet.gemini.default = Delay(0.3, then=Reply(text="An answer worth sharing."))  # long enough to overlap
    k, m = 4, 3
    texts = [f"Text {n} of the fleet scenario {marker}: shared answers save calls." for n in range(2 * k)]
    # The same text from every instance at once, M times; then the other K texts, each instance going
    # through them in its own order (they overlap where they meet).
    at_once = [
        fleet.each(lambda i, text=text: fleet.process(i, key, text)) for _ in range(m) for text in texts[:k]
    ]

    def in_turn(instance: int) -> list:
        order = texts[k:][instance % k :] + texts[k:][: instance % k]
        return [fleet.process(instance, key, text) for _ in range(m) for text in order]

    rotated = fleet.each(in_turn)
    answers = [r for batch in at_once for r in batch] + [r for batch in rotated for r in batch]
    assert len(answers) == 2 * k * INSTANCES * m
    assert {r.status_code for r in answers} == {200}
    assert sum(not r.json()["cache_hit"] for r in answers) == 2 * k  # one fresh answer per text
    calls = [r for r in fleet.gemini.requests if marked(r, marker)]
    assert len(calls) == 2 * k, f"{len(calls)} upstream calls for {2 * k} distinct texts"


def test_a_limit_hammered_from_every_instance_admits_exactly_the_limit_in_any_sliding_window(fleet):
    """Tolerance 0: Redis counts every spend (exact); DynamoDB counts sixths of the window, exact too
    while the spends fall in one window (in steady state it may admit up to a sixth's spends fewer)."""
    key = fleet.keys["rate"]
    fleet.gemini.reset()
    fleet.gemini.default = Reply(text="Rate-limited answer.")
    text = f"One text hammered from every instance {uuid.uuid4().hex}."
    stop_at = time.monotonic() + 6

    def hammer(instance: int) -> list[tuple[float, float, object]]:
        seen = []
        while time.monotonic() < stop_at:
            sent = time.time()
            response = fleet.process(instance, key, text)
            seen.append((sent, time.time(), response))
        return seen

    seen = sorted((entry for entries in fleet.each(hammer) for entry in entries), key=lambda e: e[0])
    statuses = {response.status_code for _, _, response in seen}
    assert statuses == {200, 429}, statuses
    admitted = [(sent, received) for sent, received, response in seen if response.status_code == 200]
    # Admission happened between a request's send and receive times: L + 1 admissions certainly fall in
    # one 60 s window when the last one's send is less than 60 s after the first one's receipt.
    for index in range(len(admitted) - RATE_LIMIT):
        first_received, last_sent = admitted[index][1], admitted[index + RATE_LIMIT][0]
        assert last_sent - first_received >= WINDOW_S, "more than the limit in one sliding window"
    assert len(admitted) == RATE_LIMIT  # within one window from a fresh budget: exactly the limit
    limited = [(received, r) for _, received, r in seen if r.status_code == 429]
    for received, response in limited:
        assert response.headers["x-ratelimit-limit"] == str(RATE_LIMIT)
        assert response.headers["x-ratelimit-remaining"] == "0"
        # The budget comes back a window after the first admission (in whole seconds, rounded up; on
        # DynamoDB at the end of that admission's sixth of the window).
        expected = admitted[0][0] + WINDOW_S - received
        late = WINDOW_S / 6 if fleet.backend == "dynamodb" else 0
        assert expected - 2 <= int(response.headers["retry-after"]) <= expected + late + 2
        assert response.json()["error_code"] == "RATE_LIMIT_EXCEEDED"


def test_a_breaker_opened_in_one_instance_stops_the_others_within_one_sync_interval(fleet):
    key, marker = fleet.keys["breaker"], uuid.uuid4().hex
    fleet.gemini.reset()
    fleet.gemini.default = Fail(503)  # every model fails: both breakers of the operation count
    # Instance 0 meets the failures (threshold 2): the operation's breakers open, fleet-wide.
    first = [fleet.process(0, key, f"Breaker text {n} {marker}.", "sentiment").status_code for n in range(2)]
    assert first == [503, 503]
    opened_at = time.monotonic()
    view = fleet.admin(0, f"/internal/resilience/circuit-breakers/sentiment@{PRIMARY}").json()
    assert (view["state"], view["fleet_wide"]) == ("open", True)

    def keep_asking(instance: int) -> list:
        answers, n = [], 0
        while time.monotonic() < opened_at + fleet.sync_interval_s + 1.5:
            n += 1
            answers.append(
                fleet.process(instance, key, f"Breaker text {instance}-{n} {marker}.", "sentiment")
            )
            time.sleep(0.05)
        return answers

    others = [answer for answers in fleet.each(keep_asking)[1:] for answer in answers]
    assert {r.status_code for r in others} == {503}
    calls = [r for r in fleet.gemini.requests if marked(r, marker)]
    late = [r for r in calls if r.received_at > opened_at + fleet.sync_interval_s + 0.5]
    assert not late, f"{len(late)} upstream calls more than one sync interval after the breaker opened"
    # Each other instance learns of it from the store at once: its first call (the sync runs beside it)
    # reaches each model at most once, where breakers of its own would have let the threshold through.
    for instance in range(1, INSTANCES):
        mine = [r for r in calls if f"Breaker text {instance}-" in str(r.body)]
        for model in (PRIMARY, FALLBACK):
            assert sum(r.model == model for r in mine) <= 1, (instance, model)
    assert others[-1].json()["details"]["circuit_breaker"] == "open"


def test_with_the_primary_answering_503_the_fallback_model_answers_everywhere(fleet):
    key, marker = fleet.keys["fallback"], uuid.uuid4().hex
    fleet.gemini.reset()
    fleet.gemini.by_model[PRIMARY] = Fail(503)
    fleet.gemini.by_model[FALLBACK] = Reply(json={"key_points": ["The lite model answered."]})
    answers = fleet.each(
        lambda i: [fleet.process(i, key, f"Fallback text {i}-{n} {marker}.", "key_points") for n in range(3)]
    )
    flat = [r for per_instance in answers for r in per_instance]
    assert {r.status_code for r in flat} == {200}
    assert {r.json()["metadata"]["model"] for r in flat} == {FALLBACK}
    calls = [r for r in fleet.gemini.requests if marked(r, marker)]
    assert sum(r.model == FALLBACK for r in calls) == len(flat)  # one fallback call per distinct text
    assert 1 <= sum(r.model == PRIMARY for r in calls) <= len(flat)  # tried until its breaker opened


def test_every_batch_item_comes_back_exactly_once_with_one_call_per_distinct_text(fleet):
    key, marker = fleet.keys["batch"], uuid.uuid4().hex
    fleet.gemini.reset()
    fleet.gemini.default = Delay(0.1, then=Reply(text="A batch answer."))
    # Each instance's batch: 12 items over 6 texts, in its own order; the texts are the same everywhere.
    texts = [f"Batch text {n} {marker}: items share calls." for n in range(6)]

    def send(instance: int):
        items = [{"text": texts[(instance + n) % 6], "operation": "summarize"} for n in range(12)]
        body = {"requests": items, "batch_id": f"batch-{instance}"}
        return items, fleet.request(instance, "POST", "/v1/text_processing/batch_process", key, body)

    for items, response in fleet.each(send):
        assert response.status_code == 200, response.text
        body = response.json()
        assert [r["request_index"] for r in body["results"]] == list(range(len(items)))
        assert (body["total_requests"], body["completed"], body["failed"]) == (12, 12, 0)
        assert all(r["response"]["result"] == "A batch answer." for r in body["results"])
    calls = [r for r in fleet.gemini.requests if marked(r, marker)]
    assert len(calls) == len(texts), f"{len(calls)} upstream calls for {len(texts)} distinct texts"
