"""Timestamps as both APIs write them: ISO 8601 in UTC, to the millisecond, with a `Z`."""

from datetime import UTC, datetime


def utc_timestamp(epoch: float | None = None) -> str:
    """The moment `epoch` (seconds since the epoch), or now."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
