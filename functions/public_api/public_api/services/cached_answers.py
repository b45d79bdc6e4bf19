"""Answers as the cache holds them: the response without its per-request fields, plus the prompt
guard's verdict on the text (the rules version and the rules hit), so a hit under the same rules needs
no new inspection."""

from __future__ import annotations

import time
from typing import Any

from public_api.schemas import TextProcessingResponse
from textapi_shared.security.prompt_guard import RULES_VERSION, GuardVerdict
from textapi_shared.timestamps import utc_timestamp

GUARD_FIELD = "prompt_guard"
_PER_REQUEST = frozenset({"processing_time", "timestamp", "cache_hit"})


def stored_value(response: TextProcessingResponse, verdict: GuardVerdict) -> dict[str, Any]:
    value = response.model_dump(mode="json", exclude=_PER_REQUEST)
    value[GUARD_FIELD] = {"version": RULES_VERSION, "rules": list(verdict.rules)}
    return value


def stored_verdict(value: dict[str, Any]) -> GuardVerdict | None:
    """The verdict kept with a cached answer, if it was reached under the rules in force."""
    stored = value.get(GUARD_FIELD)
    if isinstance(stored, dict) and stored.get("version") == RULES_VERSION:
        return GuardVerdict(tuple(stored.get("rules") or ()))
    return None


def tokens_of(metadata: dict[str, Any]) -> int:
    """The tokens the call that made an answer used (what serving it again saves)."""
    return (metadata.get("prompt_tokens") or 0) + (metadata.get("output_tokens") or 0)


def from_cache(value: dict[str, Any], started: float, *, outcome: str) -> TextProcessingResponse:
    """The response a cached answer gives this request (`started`: its `perf_counter` start); `outcome` is
    `hit`, `stale` (the AI is down) or `shared` (another instance's answer this request waited for). Such a
    request bills nothing and saves what the answer's own call used."""
    fields = {name: field for name, field in value.items() if name != GUARD_FIELD}
    metadata = fields.get("metadata", {})
    fields["metadata"] = {
        **metadata,
        "stale": outcome == "stale",
        "cache": outcome,
        "tokens_billed": 0,
        "tokens_saved": tokens_of(metadata),
    }
    return TextProcessingResponse(
        **fields,
        processing_time=round(time.perf_counter() - started, 4),
        timestamp=utc_timestamp(),
        cache_hit=True,
    )


def shared_copy(response: TextProcessingResponse, started: float) -> TextProcessingResponse:
    """Another request's fresh answer, given to a request that waited for it instead of calling the AI."""
    return response.model_copy(
        update={
            "processing_time": round(time.perf_counter() - started, 4),
            "timestamp": utc_timestamp(),
            "cache_hit": True,
            "metadata": {
                **response.metadata,
                "stale": False,
                "cache": "shared",
                "tokens_billed": 0,
                "tokens_saved": response.metadata.get("tokens_billed", 0),
            },
        }
    )
