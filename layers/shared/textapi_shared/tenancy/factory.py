"""Builds the key-record and usage stores from settings (`KEYS_BACKEND`); boto3 loads only for DynamoDB.
Nothing connects here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textapi_shared.config import require_installed

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings
    from textapi_shared.tenancy.key_store import KeyStore
    from textapi_shared.tenancy.usage import UsageStore


def build_tenancy_stores(settings: SharedSettings) -> tuple[KeyStore, UsageStore]:
    if settings.keys_backend == "dynamodb":
        require_installed("boto3", "boto3", "KEYS_BACKEND=dynamodb")
        from textapi_shared.tenancy.dynamodb_key_store import DynamoDBKeyStore
        from textapi_shared.tenancy.dynamodb_usage import DynamoDBUsageStore

        return DynamoDBKeyStore(settings), DynamoDBUsageStore(settings)
    from textapi_shared.tenancy.key_store import MemoryKeyStore
    from textapi_shared.tenancy.usage import MemoryUsageStore

    return MemoryKeyStore(), MemoryUsageStore()
