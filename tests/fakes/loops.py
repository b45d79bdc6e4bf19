"""Running a coroutine from a synchronous test without touching the thread's current event loop.

`asyncio.run` leaves the main thread with no current loop, and Mangum (the API's Lambda handler)
runs every invocation on `asyncio.get_event_loop()`: a test mixing both would break the next call.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Coroutine

T = TypeVar("T")


def run(coro: Coroutine[object, object, T]) -> T:
    """`coro`'s result, run on a loop of its own that is closed afterwards."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
