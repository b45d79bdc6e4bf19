"""Page tokens: a position in a listing, handed to the client as an opaque, URL-safe string."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from textapi_shared.errors import InputValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping


def page_token(position: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, sort_keys=True).encode()).decode().rstrip("=")


def page_position(
    token: str, fields: Mapping[str, type | tuple[type, ...]] | None = None
) -> dict[str, object]:
    """The position a `page_token` holds; a 422 naming `next_token` when it is not one, or when it lacks one
    of `fields` (name: type) a listing reads from it (a token that decodes is not yet one this API made)."""
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict) or any(
        not isinstance(position.get(name), kind) for name, kind in (fields or {}).items()
    ):
        raise InputValidationError(
            "Invalid request: next_token is not a token this API returned.",
            details={
                "errors": [
                    {
                        "field": "next_token",
                        "location": ["query", "next_token"],
                        "message": "not a token this API returned",
                        "type": "value_error",
                    }
                ]
            },
        )
    return position
