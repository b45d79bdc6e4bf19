"""Cache keys (hashes of everything that determines an answer) and per-operation TTLs."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

KEY_PREFIX = "textapi:v1:"
OPERATION_TTLS: dict[str, int] = {
    "summarize": 7200,
    "sentiment": 3600,
    "key_points": 5400,
    "questions": 3600,
    "qa": 1800,
}
_OPERATION_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


def cache_key(
    *,
    operation: str,
    text: str,
    options: dict[str, Any] | None,
    question: str | None,
    provider: str,
    model: str,
    prompt_version: str,
) -> str:
    """`textapi:v1:{operation}:{sha256}` over the canonical JSON of every field; the text never appears."""
    if not _OPERATION_NAME.match(operation):
        raise ValueError(f"operation {operation!r} is not a valid key segment")
    canonical = json.dumps(
        {
            "operation": operation,
            "text": text,
            "options": options or {},
            "question": question,
            "provider": provider,
            "model": model,
            "prompt_version": prompt_version,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}{operation}:{digest}"


def operation_of(key: str) -> str | None:
    """The operation segment of a key built by `cache_key`, None for any other key."""
    if not key.startswith(KEY_PREFIX):
        return None
    operation, _, rest = key[len(KEY_PREFIX) :].partition(":")
    return operation if rest else None


def operation_pattern(operation: str) -> str:
    """The glob that matches every entry of `operation`."""
    if not _OPERATION_NAME.match(operation):
        raise ValueError(f"operation {operation!r} is not a valid key segment")
    return f"{KEY_PREFIX}{operation}:*"


def ttl_for(operation: str, default_ttl: int) -> int:
    return OPERATION_TTLS.get(operation, default_ttl)
