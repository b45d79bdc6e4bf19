"""Log lines and metrics of resilience events: breaker transitions, rejections, retries, config fallbacks.

Nothing here runs on the healthy path. Without an `Observability` (CLI, unit tests) events go to the
standard `logging` module and no metric is emitted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from textapi_shared.monitoring.observability import Observability

_TRANSITION_METRICS = {
    "open": MetricName.BREAKER_OPENED,
    "half_open": MetricName.BREAKER_HALF_OPENED,
    "closed": MetricName.BREAKER_CLOSED,
}


class ResilienceEvents:
    def __init__(self, observability: Observability | None = None) -> None:
        self._obs = observability
        self._logger: Any = observability.logger if observability else logging.getLogger("textapi.resilience")

    def breaker_transition(self, operation: str, old: str, new: str, **fields: Any) -> None:
        """A transition this instance made (one metric per transition, fleet-wide)."""
        log = self._logger.warning if new == "open" else self._logger.info
        log(
            "circuit breaker %s -> %s",
            old,
            new,
            extra={"operation": operation, "from_state": old, "to_state": new, **fields},
        )
        if self._obs is not None:
            self._obs.count_for(operation, _TRANSITION_METRICS[new])
            if new == "open":
                # Also without the operation dimension: one CloudWatch alarm covers every operation.
                self._obs.count(MetricName.BREAKER_OPENED)

    def breaker_adopted(self, operation: str, new: str, **fields: Any) -> None:
        """A state another instance set, seen through the shared store: logged, not counted again."""
        self._logger.info(
            "circuit breaker state from the shared store: %s",
            new,
            extra={"operation": operation, "to_state": new, **fields},
        )

    def breaker_rejected(self, operation: str, retry_after: float) -> None:
        if self._obs is not None:
            self._obs.count_for(operation, MetricName.BREAKER_REJECTED)

    def retry(self, operation: str, attempt: int, wait_s: float, error: BaseException | None) -> None:
        details = getattr(error, "details", {}) or {}
        self._logger.info(
            "retrying AI call",
            extra={
                "operation": operation,
                "attempt": attempt,
                "wait_s": round(wait_s, 3),
                "error": type(error).__name__,
                "upstream_status": details.get("upstream_status"),
            },
        )
        if self._obs is not None:
            self._obs.count_for(operation, MetricName.AI_RETRIES)

    def model_fallback(self, operation: str, model: str, next_model: str, error: BaseException) -> None:
        """A call went on to the next model: `model` failed transiently or its breaker was open."""
        details = getattr(error, "details", {}) or {}
        self._logger.warning(
            "AI model fallback",
            extra={
                "operation": operation,
                "from_model": model,
                "to_model": next_model,
                "error": type(error).__name__,
                "upstream_status": details.get("upstream_status"),
                "circuit_breaker": details.get("circuit_breaker"),
            },
        )
        if self._obs is not None:
            self._obs.count_for(operation, MetricName.AI_MODEL_FALLBACKS)
            self._obs.count(MetricName.AI_MODEL_FALLBACKS)  # without the operation too: one dashboard line

    def store_error(self, action: str, exc: BaseException, cooldown_s: float) -> None:
        self._logger.warning(
            "breaker store unavailable; breakers run per instance meanwhile",
            extra={"action": action, "error": type(exc).__name__, "cooldown_s": cooldown_s},
        )
        if self._obs is not None:
            self._obs.count(MetricName.BREAKER_STORE_ERRORS)

    def config_loaded(self, summary: dict[str, Any]) -> None:
        self._logger.info("resilience configuration in force", extra={"resilience": summary})

    def config_fallback(self, reason: str) -> None:
        self._logger.warning(
            "resilience configuration from SSM unavailable; bundled preset applies", extra={"reason": reason}
        )
        if self._obs is not None:
            self._obs.count(MetricName.RESILIENCE_CONFIG_FALLBACK)

    def config_invalid(self, source: str, errors: list[str]) -> None:
        self._logger.error(
            "custom resilience configuration rejected; not applied",
            extra={"source": source, "errors": errors[:10]},
        )
        if self._obs is not None:
            self._obs.count(MetricName.RESILIENCE_CONFIG_INVALID)
