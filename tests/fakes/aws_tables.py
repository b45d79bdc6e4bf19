"""DynamoDB tables for tests, built from template.yaml's own definitions (the template is the contract)."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.cfn_template import load_template

EXPECTED_TABLE = (
    "template.yaml needs an `AWS::DynamoDB::Table` resource named `CacheTable` with "
    "KeySchema [{AttributeName: pk, KeyType: HASH}], AttributeDefinitions [{AttributeName: pk, "
    "AttributeType: S}], BillingMode PAY_PER_REQUEST and TimeToLiveSpecification "
    "{AttributeName: ttl, Enabled: true}"
)


def cache_table_properties() -> dict[str, Any]:
    resource = load_template()["Resources"].get("CacheTable")
    if resource is None or resource.get("Type") != "AWS::DynamoDB::Table":
        pytest.fail(EXPECTED_TABLE)
    properties = resource["Properties"]
    ttl = properties.get("TimeToLiveSpecification") or {}
    schema = [(k["AttributeName"], k["KeyType"]) for k in properties.get("KeySchema", [])]
    ttl_on = str(ttl.get("Enabled")).lower() == "true"
    if schema != [("pk", "HASH")] or ttl.get("AttributeName") != "ttl" or not ttl_on:
        pytest.fail(f"CacheTable does not match the DynamoDB backend. {EXPECTED_TABLE}")
    return properties


def create_cache_table(client: Any, name: str) -> None:
    """The table exactly as template.yaml declares it (key schema, billing, TTL attribute)."""
    properties = cache_table_properties()
    billing = properties.get("BillingMode", "PROVISIONED")
    extra = (
        {} if billing == "PAY_PER_REQUEST" else {"ProvisionedThroughput": properties["ProvisionedThroughput"]}
    )
    client.create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode=billing,
        **extra,
    )
    ttl = properties["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
    )


def create_table_as_declared(client: Any, resource: str, name: str) -> None:
    """Table `name` exactly as template.yaml's `resource` declares it: keys, indexes, billing, TTL."""
    declared = load_template()["Resources"].get(resource)
    if declared is None or declared.get("Type") != "AWS::DynamoDB::Table":
        pytest.fail(f"template.yaml needs an `AWS::DynamoDB::Table` resource named `{resource}`")
    properties = declared["Properties"]
    indexes = properties.get("GlobalSecondaryIndexes")
    client.create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode=properties["BillingMode"],
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    ttl = properties["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
    )


def create_jobs_table(client: Any, name: str) -> None:
    """The jobs table exactly as template.yaml's `JobsTable` declares it (keys pk/sk, TTL `ttl`)."""
    create_table_as_declared(client, "JobsTable", name)


def create_keys_table(client: Any, name: str) -> None:
    """The keys table exactly as template.yaml's `KeysTable` declares it (pk/sk, the by_day index, TTL)."""
    create_table_as_declared(client, "KeysTable", name)
