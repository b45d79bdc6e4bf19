"""Key records and usage: onboard, limit, rotate and revoke tenants' keys without a deploy, and export
what each key used."""

import asyncio
import re
from datetime import date
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator

from internal_api.dependencies import Services
from internal_api.key_schemas import (
    KeyCreatedResponse,
    KeyCreateRequest,
    KeyListResponse,
    KeyResponse,
    KeyRotatedResponse,
    KeyRotateRequest,
    KeyUpdateRequest,
    KeyUsageResponse,
    UsageExportResponse,
)
from textapi_shared.aws import SecretUnavailableError
from textapi_shared.errors import InputValidationError
from textapi_shared.security.api_keys import key_hash
from textapi_shared.tenancy.codec import public_view
from textapi_shared.tenancy.records import KeyRecord
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.access import AdminKeyRoute
from textapi_shared.web.openapi import ADMIN, WITH_BODY, error_responses

if TYPE_CHECKING:
    from textapi_shared.tenancy.admin import KeyAdmin
    from textapi_shared.tenancy.reports import UsageReports

router = APIRouter(
    prefix="/internal", tags=["keys"], route_class=AdminKeyRoute, responses=error_responses(*ADMIN)
)
_CALENDAR_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _calendar_day(value: object) -> object:
    # Pydantic would read `0` or `1700000000` as epoch seconds; a day here is only ever YYYY-MM-DD.
    if isinstance(value, str) and not _CALENDAR_DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


DAY = BeforeValidator(_calendar_day)
KEY_ID = Path(pattern=r"^key_[0-9a-f]{16}$", description="`key_` and 16 hex digits")
_NAMED = error_responses(404, 422)


# The admin and report helpers load on first use: the key routes are rare, the cold start is every time.
def _admin(services: Services) -> "KeyAdmin":
    from textapi_shared.tenancy.admin import KeyAdmin

    return KeyAdmin(services.keys)


def _reports(services: Services) -> "UsageReports":
    from textapi_shared.tenancy.reports import UsageReports

    return UsageReports(services.usage, services.fleet)


async def _callback_secret(services: Services, record: KeyRecord) -> str | None:
    """The key's callback secret to show with its new API key; None when there is none to show now."""
    if services.callback_secrets is None:
        return None
    try:
        return await asyncio.to_thread(services.callback_secrets.of, record.key_id, record.secret_generation)
    except SecretUnavailableError:
        services.observability.logger.warning("callback secret unavailable", extra={"key_id": record.key_id})
        return None


@router.post(
    "/keys", status_code=201, response_model=KeyCreatedResponse, responses=error_responses(*WITH_BODY)
)
async def create_key(body: KeyCreateRequest, services: Services) -> KeyCreatedResponse:
    """Create a key; its secret (`api_key`) is in this answer only."""
    record, api_key = await _admin(services).create(body.record_fields(only_set=False))
    secret = await _callback_secret(services, record)
    return KeyCreatedResponse(**public_view(record), api_key=api_key, callback_secret=secret)


@router.get("/keys", response_model=KeyListResponse, responses=error_responses(422))
async def list_keys(
    services: Services,
    tenant: str | None = Query(None, min_length=1, max_length=100),
    limit: int = Query(50, ge=1, le=200),
    next_token: str | None = Query(None, max_length=500),
) -> KeyListResponse:
    """The keys (of one tenant with `tenant`), a page at a time; never their secrets."""
    records, token = await services.keys.store.list(tenant=tenant, limit=limit, next_token=next_token)
    return KeyListResponse(keys=[KeyResponse(**public_view(r)) for r in records], next_token=token)


@router.get("/keys/{key_id}", response_model=KeyResponse, responses=_NAMED)
async def get_key(services: Services, key_id: str = KEY_ID) -> KeyResponse:
    """One key's record (never its secret)."""
    return KeyResponse(**public_view(await _admin(services).get(key_id)))


@router.patch("/keys/{key_id}", response_model=KeyResponse, responses=error_responses(*WITH_BODY, 404))
async def update_key(body: KeyUpdateRequest, services: Services, key_id: str = KEY_ID) -> KeyResponse:
    """Change any setting, or disable / re-enable (`status`); every instance follows within
    KEY_CACHE_SECONDS."""
    changes = body.record_fields(only_set=True)
    if "name" in changes and changes["name"] is None:
        raise InputValidationError.for_field("name", "may not be null: a key keeps a name")
    return KeyResponse(**public_view(await _admin(services).update(key_id, changes)))


@router.post(
    "/keys/{key_id}/rotate", response_model=KeyRotatedResponse, responses=error_responses(*WITH_BODY, 404)
)
async def rotate_key(
    services: Services, body: KeyRotateRequest | None = None, key_id: str = KEY_ID
) -> KeyRotatedResponse:
    """A new secret (shown once); the current one keeps working for `grace_seconds` (default a day)."""
    record, api_key = await _admin(services).rotate(key_id, (body or KeyRotateRequest()).grace_seconds)
    until = utc_timestamp(record.previous_valid_until) if record.previous_valid_until is not None else None
    return KeyRotatedResponse(
        key_id=record.key_id,
        api_key=api_key,
        previous_valid_until=until,
        callback_secret=await _callback_secret(services, record),
    )


@router.delete("/keys/{key_id}", response_model=KeyResponse, responses=_NAMED)
async def revoke_key(services: Services, key_id: str = KEY_ID) -> KeyResponse:
    """Revoke a key for good: 401 on every instance within KEY_CACHE_SECONDS."""
    return KeyResponse(**public_view(await _admin(services).revoke(key_id)))


@router.get("/keys/{key_id}/usage", response_model=KeyUsageResponse, responses=_NAMED)
async def key_usage(
    services: Services,
    key_id: str = KEY_ID,
    first: Annotated[
        date | None, Query(alias="from", description="YYYY-MM-DD, UTC; default 29 days earlier"), DAY
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="YYYY-MM-DD, UTC; default today"), DAY] = None,
) -> KeyUsageResponse:
    """A key's use per UTC day (at most 92 days): requests, AI calls, cache hits, tokens, estimated cost."""
    from textapi_shared.tenancy.reports import MAX_DAYS, today

    await _admin(services).get(key_id)
    last = last or today()
    first = first or date.fromordinal(last.toordinal() - 29)
    if first > last:
        raise InputValidationError.for_field("from", "must not be after `to`", location="query")
    if (last - first).days + 1 > MAX_DAYS:
        raise InputValidationError.for_field("from", f"at most {MAX_DAYS} days at a time", location="query")
    return KeyUsageResponse(key_id=key_id, days=await _reports(services).days(key_id, first, last))


@router.get("/usage", response_model=UsageExportResponse, responses=error_responses(422))
async def usage_export(
    services: Services, day: Annotated[date, Query(alias="date", description="YYYY-MM-DD, UTC"), DAY]
) -> UsageExportResponse:
    """The billing export: one row per key (records by id, static keys by hash) that used the service
    that day."""
    records, token = await services.keys.store.list(tenant=None, limit=200, next_token=None)
    subjects = [record.key_id for record in records]
    while token is not None:
        more, token = await services.keys.store.list(tenant=None, limit=200, next_token=token)
        subjects += [record.key_id for record in more]
    subjects += [key_hash(key) for key in await services.authenticator.public_keys()]
    rows = await _reports(services).on_day(day.isoformat(), subjects)
    return UsageExportResponse(date=day.isoformat(), keys=rows)
