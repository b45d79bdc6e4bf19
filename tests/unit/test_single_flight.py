"""Single-flight: concurrent requests for one key share one computation in an instance, and instances
share one through a lease (here a fleet-state twin with exclusive leases; the real stores' leases are in
the fleet-state contract)."""

from __future__ import annotations

import asyncio

import pytest

from textapi_shared.cache.memory_cache import MemoryCache
from textapi_shared.cache.single_flight import SingleFlight
from textapi_shared.errors import AIUnavailableError
from textapi_shared.fleet.memory_state import MemoryFleetState


class SharedLeases(MemoryFleetState):
    """A memory fleet state whose leases are exclusive, like a shared store's (lapsing only when released)."""

    def __init__(self) -> None:
        super().__init__()
        self.leases: dict[str, str] = {}

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        return self.leases.setdefault(key, owner) == owner

    async def release_lease(self, key: str, owner: str) -> None:
        if self.leases.get(key) == owner:
            del self.leases[key]


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def test_concurrent_callers_for_one_key_share_one_computation():
    flights, calls = SingleFlight(MemoryCache(), MemoryFleetState()), []

    async def compute() -> str:
        calls.append(1)
        await asyncio.sleep(0.01)
        return "answer"

    async def scenario():
        return await asyncio.gather(*(flights.share("k", compute) for _ in range(5)))

    results = asyncio.run(scenario())
    assert calls == [1]
    assert sorted(results) == [("answer", False)] + [("answer", True)] * 4


def test_a_failure_is_shared_and_the_next_caller_computes_again():
    flights, calls = SingleFlight(MemoryCache(), MemoryFleetState()), []

    async def failing() -> str:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise AIUnavailableError(retry_after=1)

    async def scenario():
        outcomes = await asyncio.gather(
            *(flights.share("k", failing) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(outcome, AIUnavailableError) for outcome in outcomes)
        return await flights.share("k", lambda: asyncio.sleep(0, "later"))

    assert asyncio.run(scenario()) == ("later", False)
    assert calls == [1]


def test_a_cancelled_leader_hands_over_to_a_waiting_caller():
    flights, started = SingleFlight(MemoryCache(), MemoryFleetState()), []

    async def compute() -> str:
        started.append(1)
        await asyncio.sleep(0.05)
        return "answer"

    async def scenario():
        leader = asyncio.ensure_future(flights.share("k", compute))
        await asyncio.sleep(0.01)
        follower = asyncio.ensure_future(flights.share("k", compute))
        await asyncio.sleep(0.01)
        leader.cancel()  # e.g. a batch item cut off by the deadline
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await follower

    assert asyncio.run(scenario()) == ("answer", False)  # it computed, in the leader's place
    assert started == [1, 1]


def test_a_free_lease_is_taken_and_released():
    cache, store = MemoryCache(), SharedLeases()
    flights = SingleFlight(cache, store)

    async def scenario():
        claim = await flights.claim("k", lease_s=5, wait_s=1)
        assert claim.owner is not None
        assert store.leases == {"k": claim.owner}
        await flights.release("k", claim)
        assert store.leases == {}

    asyncio.run(scenario())


def test_while_another_instance_holds_the_lease_its_answer_is_read_from_the_cache():
    cache, store = MemoryCache(), SharedLeases()
    flights = SingleFlight(cache, store, sleep=no_sleep)

    async def scenario():
        store.leases["k"] = "another-instance"

        async def other_instance_answers() -> None:
            for _ in range(5):
                await asyncio.sleep(0)
            await cache.set("k", {"result": "theirs"}, ttl_s=60)
            del store.leases["k"]

        answered = asyncio.ensure_future(other_instance_answers())
        claim = await flights.claim("k", lease_s=5, wait_s=10)
        await answered
        return claim

    claim = asyncio.run(scenario())
    assert claim.owner is None
    assert claim.entry is not None
    assert claim.entry.value == {"result": "theirs"}


def test_a_holder_that_gives_up_without_an_answer_lets_a_waiter_lead():
    cache, store = MemoryCache(), SharedLeases()
    flights = SingleFlight(cache, store, sleep=no_sleep)

    async def scenario():
        store.leases["k"] = "failed-instance"

        async def holder_fails() -> None:
            await asyncio.sleep(0)
            del store.leases["k"]  # its call failed: released, nothing stored

        failing = asyncio.ensure_future(holder_fails())
        claim = await flights.claim("k", lease_s=5, wait_s=10)
        await failing
        return claim

    claim = asyncio.run(scenario())
    assert claim.entry is None
    assert claim.owner is not None


def test_the_wait_is_bounded_then_the_caller_goes_on_alone():
    cache, store = MemoryCache(), SharedLeases()
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    flights = SingleFlight(cache, store, sleep=sleep, monotonic=lambda: now[0])

    async def scenario():
        store.leases["k"] = "stuck-instance"  # never answers, never releases (a lease lapses by its TTL)
        return await flights.claim("k", lease_s=5, wait_s=2)

    claim = asyncio.run(scenario())
    assert (claim.entry, claim.owner) == (None, None)
    assert 2.0 <= now[0] < 2.3


def test_an_answer_older_than_the_request_does_not_count_for_a_no_cache_request():
    cache, store = MemoryCache(), SharedLeases()
    flights = SingleFlight(cache, store, sleep=no_sleep)

    async def scenario():
        await cache.set("k", {"result": "old"}, ttl_s=60)
        entry = await cache.get("k")
        assert entry is not None
        claim = await flights.claim("k", lease_s=5, wait_s=1, not_before=entry.stored_at + 1)
        return claim

    claim = asyncio.run(scenario())
    assert claim.entry is None
    assert claim.owner is not None
