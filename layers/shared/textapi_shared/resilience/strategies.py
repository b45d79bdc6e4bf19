"""The four resilience strategies: how often and how patiently to retry, and when a breaker opens.

A `Strategy` is also the resolved policy of one operation (see `presets.resolve_policies`): the
values below, possibly tuned by the preset and the custom configuration in force.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class StrategyName(StrEnum):
    AGGRESSIVE = "aggressive"
    BALANCED = "balanced"
    CONSERVATIVE = "conservative"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Strategy:
    """Retry and circuit-breaker parameters. Delays are seconds.

    `max_attempts` counts every call, the first included. Backoff before attempt n+1 is
    `exponential_multiplier * 2**(n-1)` clamped to [`exponential_min`, `exponential_max`], plus a
    random jitter in [0, `jitter_max`] when enabled; no attempt starts after `max_delay_seconds`.
    """

    name: str
    max_attempts: int
    max_delay_seconds: float
    exponential_multiplier: float
    exponential_min: float
    exponential_max: float
    jitter_enabled: bool
    jitter_max: float
    failure_threshold: int
    recovery_timeout: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _strategy(
    name: StrategyName,
    attempts: int,
    stop_after: float,
    backoff: tuple[float, float, float],
    jitter_max: float,
    threshold: int,
    recovery: float,
) -> Strategy:
    multiplier, minimum, maximum = backoff
    return Strategy(
        name=str(name),
        max_attempts=attempts,
        max_delay_seconds=stop_after,
        exponential_multiplier=multiplier,
        exponential_min=minimum,
        exponential_max=maximum,
        jitter_enabled=True,
        jitter_max=jitter_max,
        failure_threshold=threshold,
        recovery_timeout=recovery,
    )


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        _strategy(StrategyName.AGGRESSIVE, 2, 10, (0.5, 1, 5), 2, 3, 30),
        _strategy(StrategyName.BALANCED, 3, 30, (1, 2, 10), 2, 5, 60),
        _strategy(StrategyName.CONSERVATIVE, 5, 120, (2, 4, 30), 2, 8, 120),
        _strategy(StrategyName.CRITICAL, 7, 300, (1.5, 3, 60), 5, 10, 300),
    )
}
