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
    scope: str,
    redaction: str | None = None,
) -> str:
    """`textapi:v1:{operation}:{sha256}` over the canonical JSON of every field; the text never appears.

    `scope` is whose entry it is (`key:<key hash>`, `open`, or `shared` with CACHE_SCOPE=shared): in the
    hash, so one tenant's entry is never another's hit, while the key format (and invalidation by
    operation) stays the same. `redaction` (`redact`: the text holds PII placeholders) keeps redacted
    answers apart from clear ones; without it the key is what it always was.
    """
    if not _OPERATION_NAME.match(operation):
        raise ValueError(f"operation {operation!r} is not a valid key segment")
    fields = {
        "operation": operation,
        "text": text,
        "options": options or {},
        "question": question,
        "provider": provider,
        "model": model,
        "prompt_version": prompt_version,
        "scope": scope,
    }
    if redaction is not None:
        fields["redaction"] = redaction
    canonical = json.dumps(
        fields,
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


# One key per operation and digest extreme: a glob matching all of them selects every entry there is.
_PROBE_KEYS = tuple(
    f"{KEY_PREFIX}{operation}:{digest}"
    for operation in (*OPERATION_TTLS, "other_operation")
    for digest in ("0" * 64, "f" * 64, hashlib.sha256(b"probe").hexdigest())
)


def matches_every_entry(pattern: str) -> bool:
    """Whether an invalidation glob selects every entry (`*`, `textapi:*`, `**`, `textapi:v1:*:*`, ...)."""
    import fnmatch

    return all(fnmatch.fnmatchcase(key, pattern) for key in _PROBE_KEYS)


def ttl_for(operation: str, default_ttl: int) -> int:
    return OPERATION_TTLS.get(operation, default_ttl)
