"""Page tokens: a position in a listing, handed to the client as an opaque, URL-safe string."""

from __future__ import annotations

import base64
import json

from textapi_shared.errors import InputValidationError


def page_token(position: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, sort_keys=True).encode()).decode().rstrip("=")


def page_position(token: str) -> dict[str, object]:
    """The position a `page_token` holds; a 422 naming `next_token` when it is not one."""
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict):
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
