"""Cache values as bytes: JSON, zlib-compressed above a threshold, behind a one-byte marker. Never pickle."""

from __future__ import annotations

import json
import zlib
from typing import Any, NamedTuple

from textapi_shared.backend_guard import DecodeFailure

JSON_MARKER = b"J"
ZLIB_MARKER = b"Z"
_COMPRESSION_LEVEL = 6


class CacheDecodeError(DecodeFailure, ValueError):
    """Stored bytes that are not a value this codec wrote (a data problem, not an outage)."""


class EncodedValue(NamedTuple):
    data: bytes
    raw_bytes: int  # the JSON
    stored_bytes: int  # len(data), marker included

    @property
    def compressed(self) -> bool:
        return self.data[:1] == ZLIB_MARKER


def encode(value: dict[str, Any], *, threshold: int) -> EncodedValue:
    """Compress when the JSON is larger than `threshold` bytes and compression actually saves space."""
    if not isinstance(value, dict):
        raise TypeError(f"cache values are dicts, not {type(value).__name__}")
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    data = JSON_MARKER + raw
    if len(raw) > threshold:
        packed = ZLIB_MARKER + zlib.compress(raw, _COMPRESSION_LEVEL)
        if len(packed) < len(data):
            data = packed
    return EncodedValue(data=data, raw_bytes=len(raw), stored_bytes=len(data))


def decode(data: bytes) -> dict[str, Any]:
    marker, body = data[:1], data[1:]
    try:
        if marker == ZLIB_MARKER:
            body = zlib.decompress(body)
        elif marker != JSON_MARKER:
            raise CacheDecodeError(f"unknown value marker {marker!r}")
        value = json.loads(body)
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheDecodeError(f"undecodable cache value: {type(exc).__name__}") from exc
    if not isinstance(value, dict):
        raise CacheDecodeError("cache value is not a JSON object")
    return value
