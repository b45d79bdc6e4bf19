"""Cache keys, TTLs, the value codec and the in-process LRU: pure logic, no sockets."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from fakes.clock import FakeClock
from textapi_shared.cache.codec import JSON_MARKER, ZLIB_MARKER, CacheDecodeError, decode, encode
from textapi_shared.cache.keys import OPERATION_TTLS, cache_key, operation_of, operation_pattern, ttl_for
from textapi_shared.cache.memory_cache import MemoryCache
from textapi_shared.fleet.memory_state import MemoryFleetState

BASE = {
    "operation": "summarize",
    "text": "The committee approved the budget after a long debate about the new stadium.",
    "options": {"max_length": 50},
    "question": None,
    "provider": "gemini",
    "model": "gemini-2.5-flash",
    "prompt_version": "3",
    "scope": "key:0123456789abcdef",
}


def test_cache_key_is_the_sha256_of_the_canonical_json_and_stays_put():
    # A changed derivation silently empties every cache in the fleet: this value must not move (it
    # moved once, deliberately, when the caller's scope joined the hash).
    canonical = json.dumps(BASE, sort_keys=True, separators=(",", ":")).encode()
    assert cache_key(**BASE) == f"textapi:v1:summarize:{hashlib.sha256(canonical).hexdigest()}"
    assert (
        cache_key(**BASE)
        == "textapi:v1:summarize:3fd533beca269d2edfcf3ed372747438742964eacc1b99cb7e6623e06ded8d3a"
    )


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("operation", "key_points"),
        ("text", BASE["text"] + " "),
        ("options", {"max_length": 51}),
        ("question", "Who approved it?"),
        ("provider", "local"),
        ("model", "gemini-2.5-pro"),
        ("prompt_version", "4"),
        ("scope", "key:fedcba9876543210"),
        ("scope", "shared"),
    ],
)
def test_cache_key_changes_when_any_field_changes(field, other):
    assert cache_key(**{**BASE, field: other}) != cache_key(**BASE)


def test_cache_key_ignores_option_order_and_treats_no_options_as_empty():
    first = cache_key(**{**BASE, "options": {"a": 1, "b": [1, 2], "c": {"y": 1, "x": 2}}})
    second = cache_key(**{**BASE, "options": {"c": {"x": 2, "y": 1}, "b": [1, 2], "a": 1}})
    assert first == second
    assert cache_key(**{**BASE, "options": None}) == cache_key(**{**BASE, "options": {}})


def test_cache_key_never_contains_the_text():
    text = "secretword " * 50
    key = cache_key(**{**BASE, "text": text, "question": "secretquestion?"})
    assert "secret" not in key
    assert re.fullmatch(r"textapi:v1:summarize:[0-9a-f]{64}", key)
    assert cache_key(**{**BASE, "text": "\ud800 lone surrogate"}).startswith("textapi:v1:")


@pytest.mark.parametrize("operation", ["", "sum:marize", "sum*", "Summarize", "a b"])
def test_cache_key_rejects_operations_that_are_not_key_segments(operation):
    with pytest.raises(ValueError, match="operation"):
        cache_key(**{**BASE, "operation": operation})


def test_operation_is_read_back_from_a_key():
    assert operation_of(cache_key(**{**BASE, "operation": "key_points"})) == "key_points"
    assert operation_of("ratelimit:abc:1") is None
    assert operation_of("textapi:v1:summarize") is None
    assert operation_pattern("qa") == "textapi:v1:qa:*"


def test_ttl_table_per_operation_with_default_for_the_rest():
    assert {op: ttl_for(op, 3600) for op in OPERATION_TTLS} == {
        "summarize": 7200,
        "sentiment": 3600,
        "key_points": 5400,
        "questions": 3600,
        "qa": 1800,
    }
    assert ttl_for("translate", 999) == 999


def test_small_values_are_stored_as_marked_json():
    value = {"result": "Ça va — “quoted” ✓", "n": 1, "items": [1, None, True]}
    encoded = encode(value, threshold=1000)
    assert encoded.data[:1] == JSON_MARKER
    assert not encoded.compressed
    assert json.loads(encoded.data[1:]) == value
    assert decode(encoded.data) == value
    assert encoded.stored_bytes == len(encoded.data) == encoded.raw_bytes + 1


def test_large_values_are_compressed_behind_the_zlib_marker():
    value = {"result": "the same sentence again. " * 400}
    encoded = encode(value, threshold=1000)
    assert encoded.data[:1] == ZLIB_MARKER
    assert encoded.compressed
    assert encoded.stored_bytes < encoded.raw_bytes / 10
    assert json.loads(zlib.decompress(encoded.data[1:])) == value
    assert decode(encoded.data) == value


def test_compression_starts_strictly_above_the_threshold():
    at_threshold = {"t": "a" * 92}  # {"t":"…"} is 8 bytes of JSON around the text
    assert len(json.dumps(at_threshold, separators=(",", ":"))) == 100
    assert encode(at_threshold, threshold=100).data[:1] == JSON_MARKER
    assert encode({"t": "a" * 93}, threshold=100).data[:1] == ZLIB_MARKER


def test_compression_is_kept_only_when_it_saves_space():
    encoded = encode({"t": "x"}, threshold=0)
    assert encoded.data[:1] == JSON_MARKER
    assert decode(encoded.data) == {"t": "x"}


@pytest.mark.parametrize(
    "data",
    [b"", b"P\x80\x04pickle", ZLIB_MARKER + b"not zlib", JSON_MARKER + b"{broken", JSON_MARKER + b"[1, 2]"],
)
def test_decode_refuses_anything_the_codec_did_not_write(data):
    with pytest.raises(CacheDecodeError):
        decode(data)


def test_encode_accepts_only_dicts():
    with pytest.raises(TypeError):
        encode(["not", "a", "dict"], threshold=10)  # type: ignore[arg-type]


def test_memory_cache_evicts_the_least_recently_used_entry_by_count():
    async def scenario() -> None:
        cache = MemoryCache(max_entries=3, clock=FakeClock(1_700_000_000.0))
        for key in ("a", "b", "c"):
            await cache.set(key, {"v": key}, ttl_s=60)
        assert await cache.get("a") is not None  # "a" is now the most recently used
        await cache.set("d", {"v": "d"}, ttl_s=60)
        assert cache.stored_keys() == ["c", "a", "d"]
        assert await cache.get("b") is None
        assert cache.evictions == 1

    asyncio.run(scenario())


def test_memory_cache_evicts_by_encoded_bytes():
    async def scenario() -> None:
        cache = MemoryCache(
            max_entries=100, max_bytes=1000, compression_threshold=10_000, clock=FakeClock(1_700_000_000.0)
        )
        value = {"t": "x" * 292}  # 301 bytes encoded with its marker
        for key in ("a", "b", "c"):
            assert (await cache.set(key, value, ttl_s=60)).stored_bytes == 301
        status = await cache.status()
        assert (status.entries, status.memory_bytes) == (3, 903)
        await cache.set("d", value, ttl_s=60)
        assert cache.stored_keys() == ["b", "c", "d"]
        assert (await cache.status()).memory_bytes == 903
        assert await cache.set("huge", {"t": "x" * 2000}, ttl_s=60) is None
        assert "huge" not in cache.stored_keys()

    asyncio.run(scenario())


def test_memory_cache_replacing_a_key_keeps_the_byte_count_right():
    async def scenario() -> None:
        cache = MemoryCache(compression_threshold=10_000, clock=FakeClock(1_700_000_000.0))
        await cache.set("a", {"t": "x" * 100}, ttl_s=60)
        await cache.set("a", {"t": "y"}, ttl_s=60)
        assert (await cache.status()).memory_bytes == len(encode({"t": "y"}, threshold=10_000).data)
        await cache.invalidate(everything=True)
        assert (await cache.status()).memory_bytes == 0

    asyncio.run(scenario())


def test_memory_cache_values_cannot_be_mutated_through_the_caller():
    async def scenario() -> None:
        cache = MemoryCache(clock=FakeClock(1_700_000_000.0))
        value = {"items": [1, 2]}
        await cache.set("k", value, ttl_s=60)
        value["items"].append(3)
        entry = await cache.get("k")
        entry.value["items"].append(4)
        assert (await cache.get("k")).value == {"items": [1, 2]}

    asyncio.run(scenario())


def test_memory_cache_front_lifetime_cap_bounds_a_stale_copy():
    async def scenario() -> None:
        clock = FakeClock(1_700_000_000.0)
        cache = MemoryCache(stale_grace_s=1000, clock=clock)
        await cache.set("k", {"v": 1}, ttl_s=600, keep_for_s=30)
        clock.now += 29
        assert (await cache.get("k")).fresh
        clock.now += 2
        assert await cache.get("k") is None

    asyncio.run(scenario())


def test_memory_counter_store_reads_counters_and_forgets_expired_ones():
    async def scenario() -> None:
        store = MemoryFleetState()
        await store.incr_many({"a": 2, "b": 3}, ttl_s=60)
        assert await store.incr("a", 1, ttl_s=60) == 3
        await store.incr("gone", 1, ttl_s=0)
        assert await store.read_counters(["a", "b", "gone", "never"]) == {
            "a": 3,
            "b": 3,
            "gone": 0,
            "never": 0,
        }

    asyncio.run(scenario())


def test_building_the_cache_module_loads_neither_redis_nor_boto3():
    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys, textapi_shared.cache.statistics, textapi_shared.cache.keys\n"
        "from textapi_shared.cache.factory import build_cache\n"
        "from textapi_shared.cache.generation import CacheGeneration\n"
        "from textapi_shared.config import SharedSettings\n"
        "build_cache(SharedSettings(cache_backend='redis'), CacheGeneration())\n"
        "build_cache(SharedSettings(cache_backend='dynamodb'), CacheGeneration())\n"
        "print([m for m in ('redis', 'boto3', 'botocore.session') if m in sys.modules])"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root / "layers/shared")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("pattern", "everything"),
    [
        ("*", True),
        ("**", True),
        ("textapi:*", True),
        ("textapi:v1:*", True),
        ("textapi:v1:*:*", True),
        ("*:*", True),
        ("t*", True),
        ("textapi:v1:*[0-9a-f]", True),
        ("textapi:v1:summarize:*", False),
        ("textapi:v1:s*", False),
        ("textapi:v1:*:0*", False),
        ("other:*", False),
    ],
)
def test_patterns_that_match_every_entry_are_recognised(pattern, everything):
    from textapi_shared.cache.keys import matches_every_entry

    assert matches_every_entry(pattern) is everything
