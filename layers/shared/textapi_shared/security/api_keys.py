"""API keys: where they come from, how a request presents one, and how it is checked.

Static keys come from the environment or from SSM SecureString parameters (comma-separated keys), read
through Powertools Parameters with a cache age, and are compared in constant time. Key records (`ta_...`,
managed through the admin API) are found by the hash of the presented secret through `KeyResolver`'s
in-process cache. Only a short hash of a key is ever logged; a record stores its secret's SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.aws import SecretUnavailableError, SecureParameters
from textapi_shared.config import unusable_keys
from textapi_shared.errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ServiceUnavailableError,
)
from textapi_shared.tenancy.records import KEY_PREFIX, secret_hash

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from textapi_shared.config import SharedSettings
    from textapi_shared.tenancy.records import KeyRecord
    from textapi_shared.tenancy.resolver import KeyResolver

_OPEN_MESSAGE = "Authentication is disabled: no API keys are configured (non-production stage)."


def key_hash(key: str) -> str:
    """A short, stable, non-reversible label for a key: safe for logs and counters."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`.

    Two different keys are refused (401): which one counts must not depend on which header is read first.
    """
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    api_key = headers.get("x-api-key", "").strip()
    if bearer and api_key and not hmac.compare_digest(bearer.encode(), api_key.encode()):
        raise AuthenticationError(
            "Conflicting credentials: `Authorization: Bearer` and `X-API-Key` hold different keys; send one."
        )
    return bearer or api_key or None


def _matches(candidate: str, keys: tuple[str, ...]) -> bool:
    # Compare against every key so timing does not reveal which one (or whether any) matched.
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate.encode(), key.encode())
    return found


def split_keys(value: str) -> tuple[str, ...]:
    """`a, b` → ("a", "b"); blank items are dropped."""
    return tuple(k.strip() for k in value.split(",") if k.strip())


class Principal(NamedTuple):
    """Who is calling: a key (by hash and 8-character prefix; its record when it is one), or nobody in
    open mode."""

    key_hash: str | None
    key_prefix: str | None
    is_admin: bool = False
    open_access: bool = False
    record: KeyRecord | None = None

    @classmethod
    def for_key(cls, key: str, *, is_admin: bool = False, record: KeyRecord | None = None) -> Principal:
        return cls(key_hash=key_hash(key), key_prefix=f"{key[:8]}...", is_admin=is_admin, record=record)

    @property
    def key_id(self) -> str | None:
        """A record's id; None for a static key and in open mode."""
        return self.record.key_id if self.record is not None else None

    def subject(self, client_host: str | None) -> str:
        """Whose budgets, jobs, usage and cache a request's are: a record's id (stable across rotations), a
        static key's hash, or (open mode only) the hash of the client's address."""
        if self.record is not None:
            return self.record.key_id
        if self.key_hash:
            return self.key_hash
        return f"open:{key_hash(client_host or 'unknown')}"

    def allows(self, scope: str) -> bool:
        """Whether the key may use an operation (or `jobs`): static keys and open mode may use all."""
        return self.record is None or self.record.allows(scope)

    def require(self, *scopes: str) -> None:
        """403 naming the first of `scopes` outside the key's scopes."""
        refused = next((scope for scope in scopes if not self.allows(scope)), None)
        if refused is not None:
            raise AuthorizationError(f"This API key may not use {refused!r}.", details={"scope": refused})


class KeySourceHealth(NamedTuple):
    public_keys: int
    admin_keys: int
    open_public: bool  # no public key source is configured at all
    open_admin: bool
    source: str
    problems: tuple[str, ...] = ()  # configured sources that yield no usable keys, and why (admins only)


class ApiKeyAuthenticator:
    """Checks public and admin keys; one instance per execution environment.

    Only a deployment with no key source at all may run open, and only outside production. A
    configured source that cannot be read, or yields no usable key, fails closed: protected routes
    answer 503 with a generic message (`SecretUnavailableError`) and the parameter's name goes to an
    ERROR log line only.
    """

    def __init__(
        self,
        settings: SharedSettings,
        *,
        secrets: SecureParameters | None = None,
        on_open: Callable[[str], None] | None = None,
        logger: Any | None = None,
        records: KeyResolver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self.records = records
        self._clock = clock
        self._secrets = secrets or SecureParameters(settings, logger=logger)
        self._on_open = on_open
        self._logger = logger or logging.getLogger("textapi.security")
        self._warned_open = False
        self._parsed: dict[str, tuple[str, tuple[str, ...] | None]] = {}  # parameter → (raw, keys)

    # -- key sources -------------------------------------------------------------------------

    def _ssm_keys(self, parameter: str, *, force: bool = False) -> tuple[str, ...]:
        raw = self._secrets.get(parameter, force=force)
        known = self._parsed.get(parameter)
        if known is None or known[0] != raw:  # parse and judge each distinct value once
            keys = split_keys(raw)
            problem = "holds no keys" if not keys else None
            if keys and unusable_keys(keys):
                positions = ", ".join(str(i + 1) for i in unusable_keys(keys))
                problem = f"holds keys no request can present (position {positions}: whitespace, non-ASCII)"
            if problem is not None:
                extra = {"parameter": parameter, "reason": problem}
                self._logger.error("API key parameter unusable", extra=extra)
            known = self._parsed[parameter] = (raw, None if problem else keys)
        if known[1] is None:
            raise SecretUnavailableError(
                parameter, "unusable value", retry_after=self._settings.secrets_retry_seconds
            )
        return known[1]

    async def _keys(self, env_keys: tuple[str, ...], parameter: str, force: bool) -> tuple[str, ...]:
        if not parameter:  # env-only keys: no thread hop on the hot path
            return env_keys
        return env_keys + await asyncio.to_thread(self._ssm_keys, parameter, force=force)

    async def public_keys(self, *, force: bool = False) -> tuple[str, ...]:
        settings = self._settings
        return await self._keys(settings.public_keys_from_env, settings.api_keys_ssm_parameter, force)

    async def admin_keys(self, *, force: bool = False) -> tuple[str, ...]:
        settings = self._settings
        return await self._keys(
            tuple(settings.internal_api_keys), settings.internal_api_keys_ssm_parameter, force
        )

    # -- checks ------------------------------------------------------------------------------

    def _open_or_refuse(self, kind: str) -> Principal:
        if self._settings.is_production:
            raise ConfigurationError(f"No {kind} keys are configured for a production stage.")
        if not self._warned_open and self._on_open is not None:
            self._on_open(kind)
            self._warned_open = True
        return Principal(key_hash=None, key_prefix=None, open_access=True)

    async def authenticate_public(
        self, headers: Mapping[str, str], *, required: bool = True
    ) -> Principal | None:
        """The caller of a public endpoint; `required=False` lets anonymous calls through."""
        keys = await self.public_keys()
        candidate = presented_key(headers)
        if candidate is None:
            if not keys:
                return self._open_or_refuse("API")
            if not required:
                return None
            raise AuthenticationError("API key required: send `Authorization: Bearer <key>` or `X-API-Key`.")
        if keys and _matches(candidate, keys):
            return Principal.for_key(candidate)
        record = await self._record(candidate)
        if record is not None:
            return Principal.for_key(candidate, record=record)
        # Open mode serves anonymous callers, never a key record's secret it does not know (one rotated
        # away, or mistyped): that caller meant to be the key and must hear that it is not.
        if not keys and not (self.records is not None and candidate.startswith(KEY_PREFIX)):
            return self._open_or_refuse("API")
        raise AuthenticationError("Invalid API key.")

    async def _record(self, candidate: str) -> KeyRecord | None:
        """The key record of a presented `ta_...` secret (None when there is none); 401 when it is no longer
        usable, 503 when the store cannot be read."""
        if self.records is None or not candidate.startswith(KEY_PREFIX):
            return None
        presented = secret_hash(candidate)
        try:
            record = await self.records.by_secret(presented)
        except Exception as exc:
            self._logger.error("key records unavailable", extra={"error": type(exc).__name__})
            raise ServiceUnavailableError(
                "The service cannot check API keys right now; retry shortly.", retry_after=5
            ) from exc
        now = self._clock()
        if record is None or not record.accepts(presented, now):
            return None
        refusal = record.refusal(now)
        if refusal is not None:
            raise AuthenticationError(refusal)
        return record

    async def authenticate_admin(self, headers: Mapping[str, str]) -> Principal:
        """The caller of an internal endpoint: admin keys only; a valid public key is 403."""
        keys = await self.admin_keys()
        if not keys:
            return self._open_or_refuse("admin")
        candidate = presented_key(headers)
        if candidate is None:
            raise AuthenticationError(
                "Admin key required: send `Authorization: Bearer <key>` or `X-API-Key`."
            )
        if _matches(candidate, keys):
            return Principal.for_key(candidate, is_admin=True)
        if await self._is_public_key(candidate):
            raise AuthorizationError("This is a public API key; internal endpoints need an admin key.")
        raise AuthenticationError("Invalid admin key.")

    async def _is_public_key(self, candidate: str) -> bool:
        try:
            return _matches(candidate, await self.public_keys()) or await self._record(candidate) is not None
        except (SecretUnavailableError, ServiceUnavailableError, AuthenticationError):
            return False  # cannot tell: the key is no admin key either way

    async def health(self, *, force: bool = False) -> KeySourceHealth:
        """Counts of usable keys (reading SSM when configured), open sides, and the sources that fail."""
        settings = self._settings
        problems: list[str] = []

        async def count(kind: str, keys: Callable[..., Awaitable[tuple[str, ...]]], parameter: str) -> int:
            try:
                return len(await keys(force=force))
            except SecretUnavailableError as exc:
                problems.append(f"{kind} keys unavailable: SSM parameter {parameter} {_why(exc)}")
                return 0

        public, admin = await asyncio.gather(
            count("API", self.public_keys, settings.api_keys_ssm_parameter),
            count("admin", self.admin_keys, settings.internal_api_keys_ssm_parameter),
        )
        uses_ssm = bool(settings.api_keys_ssm_parameter or settings.internal_api_keys_ssm_parameter)
        return KeySourceHealth(
            public_keys=public,
            admin_keys=admin,
            open_public=not (settings.public_keys_from_env or settings.api_keys_ssm_parameter),
            open_admin=not (settings.internal_api_keys or settings.internal_api_keys_ssm_parameter),
            source="ssm+env" if uses_ssm else "env",
            problems=tuple(problems),
        )

    @staticmethod
    def open_message() -> str:
        return _OPEN_MESSAGE


def _why(exc: SecretUnavailableError) -> str:
    if exc.reason == "unusable value":
        return "holds no usable key"
    return f"cannot be read ({exc.reason})"
