"""Keys used across tests and the assertion of the one error shape (SPEC §4)."""

from __future__ import annotations

import re

PUBLIC_KEY = "pk-live-0123456789abcdef"
SECOND_PUBLIC_KEY = "pk-live-fedcba9876543210"
ADMIN_KEY = "ak-admin-00112233445566778899"

ERROR_FIELDS = {"success", "error", "error_code", "details", "timestamp", "request_id"}


def assert_error_shape(body: dict, code: str, request_id: str | None = None) -> None:
    assert set(body) == ERROR_FIELDS, body
    assert body["success"] is False
    assert body["error_code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["details"], dict)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    if request_id is not None:
        assert body["request_id"] == request_id
