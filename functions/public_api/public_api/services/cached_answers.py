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


def from_cache(value: dict[str, Any], started: float, *, stale: bool) -> TextProcessingResponse:
    """The response a cached answer gives this request (`started`: its `perf_counter` start)."""
    fields = {name: field for name, field in value.items() if name != GUARD_FIELD}
    fields["metadata"] = {**fields.get("metadata", {}), "stale": stale}
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
            "metadata": {**response.metadata, "stale": False},
        }
    )
