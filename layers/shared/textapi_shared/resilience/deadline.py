"""The invocation's deadline: every wait and retry is bounded by the time Lambda has left."""

from __future__ import annotations

import time
from typing import Any, NamedTuple


class Deadline(NamedTuple):
    """A point on the monotonic clock by which the work must be done."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + max(0.0, seconds))

    @classmethod
    def for_invocation(cls, lambda_context: Any | None, *, reserve_s: float, fallback_s: float) -> Deadline:
        """Lambda's remaining time minus a reserve for writing the response; `fallback_s` off Lambda."""
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            return cls.after(lambda_context.get_remaining_time_in_millis() / 1000 - reserve_s)
        return cls.after(fallback_s)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at
