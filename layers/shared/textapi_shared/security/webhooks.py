"""Job callbacks as Standard Webhooks (SPEC §12): each key's own signing secret, and the three headers.

A key's secret is derived, never stored: HMAC-SHA256 of the deployment's callback secret over the key's
subject (a record's id, a static key's hash) and its secret generation (a record's moves on each
rotation), as `whsec_` + base64. Only the deployment's secret and the key's own identity make it, so no
tenant can verify or forge another's callbacks, and a rotation gives the key a new one. During a
rotation's overlap a callback carries the signatures of both secrets (the specification allows several),
so a receiver on either verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textapi_shared.aws import SecureParameters
    from textapi_shared.config import SharedSettings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def key_secret(deployment_secret: str, subject: str, generation: int = 0) -> str:
    """The Standard Webhooks secret of the key known as `subject`, at its secret `generation`."""
    message = f"textapi/callback-secret/v1/{subject}/{generation}".encode()
    digest = hmac.new(deployment_secret.encode(), message, hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under `secret` (`whsec_` + base64)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_headers(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt: the same id on every attempt, a timestamp of its own, a
    signature per secret (space-separated)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets),
    }


class CallbackSecrets:
    """Keys' callback secrets from the deployment's (`read()`: cached by its reader; raises
    `SecretUnavailableError` when it cannot be read now)."""

    def __init__(self, read: Callable[[], str]) -> None:
        self.read = read

    def of(self, subject: str, generation: int = 0) -> str:
        return key_secret(self.read(), subject, generation)


def deployment_callback_secrets(
    settings: SharedSettings, parameters: SecureParameters
) -> CallbackSecrets | None:
    """The keys' callback secrets of this deployment; None when it has no callback secret configured."""
    if not settings.job_callbacks_enabled:
        return None

    def read() -> str:
        return settings.job_callback_secret or parameters.get(settings.job_callback_secret_ssm_parameter)

    return CallbackSecrets(read)
