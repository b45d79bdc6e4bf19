"""What every app's requests share, built once per execution environment: the composition root of each
function (`public_api.composition`, `internal_api.composition`) extends it with its own services, and the
app holds the result as its one piece of state (`app.state.services`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from textapi_shared.aws import SecureParameters
from textapi_shared.config import require_installed
from textapi_shared.security.api_keys import ApiKeyAuthenticator

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.security.rate_limiter import RateLimiter
    from textapi_shared.tenancy.resolver import KeyResolver


@dataclass(frozen=True, slots=True, kw_only=True)
class WebServices:
    settings: SharedSettings
    observability: Observability
    secrets: SecureParameters
    authenticator: ApiKeyAuthenticator
    # Meters keyed requests (the public API's); None leaves them unmetered (the admin API).
    limiter: RateLimiter | None = None

    @classmethod
    def create(cls, settings: SharedSettings, observability: Observability, **services: Any) -> Self:
        """`cls` with the key checking every app builds the same way and `services` (a subclass's own)."""
        secrets, authenticator = key_checking(settings, observability, records=None)
        return cls(
            settings=settings,
            observability=observability,
            secrets=secrets,
            authenticator=authenticator,
            **services,
        )


def key_checking(
    settings: SharedSettings, observability: Observability, *, records: KeyResolver | None
) -> tuple[SecureParameters, ApiKeyAuthenticator]:
    """The secrets reader and the key checker every app builds the same way (nothing is read here);
    `records` finds key records (`/internal/keys`) besides the static keys."""
    if settings.ssm_parameters:
        require_installed("boto3", "boto3", ", ".join(sorted(settings.ssm_parameters)))
    logger = observability.logger
    secrets = SecureParameters(settings, logger=logger, metrics=observability)
    authenticator = ApiKeyAuthenticator(
        settings,
        secrets=secrets,
        logger=logger,
        on_open=lambda kind: logger.warning(ApiKeyAuthenticator.open_message(), extra={"key_kind": kind}),
        records=records,
    )
    return secrets, authenticator
