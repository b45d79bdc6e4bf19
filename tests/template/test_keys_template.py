"""The tenants' resources of template.yaml: the keys table (records and billed usage), its settings and
the least grants each function needs on it (tests/artifact/test_iam.py proves each one is used)."""

from __future__ import annotations

from typing import Any

from fakes.cfn_template import load_template
from textapi_shared.config import SharedSettings
from textapi_shared.tenancy.dynamodb_usage import BY_DAY_INDEX

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
TABLE = RESOURCES["KeysTable"]
KEYS_ARN = {"Fn::GetAtt": ["KeysTable", "Arn"]}
INDEX_ARN = {"Fn::Sub": "${KeysTable.Arn}/index/by_day"}


def _grants(role: str) -> list[dict[str, Any]]:
    statements = RESOURCES[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    return [s for s in statements if "Fn::If" not in s and s.get("Sid") == "KeysTable"]


def test_keys_table_has_the_keys_the_index_and_ttl_the_stores_use():
    properties = TABLE["Properties"]
    assert [(k["AttributeName"], k["KeyType"]) for k in properties["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    [index] = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == BY_DAY_INDEX
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("day", "HASH"),
        ("subject", "RANGE"),
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}  # the export reads every billed field
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_customers_keys_and_billing_outlive_the_stack_and_can_be_restored():
    assert (TABLE["DeletionPolicy"], TABLE["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = TABLE["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}


def test_every_function_keeps_keys_in_dynamodb_whatever_the_cache_backend():
    environment = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["KEYS_BACKEND"] == "dynamodb"
    assert environment["KEYS_TABLE_NAME"] == {"Ref": "KeysTable"}
    assert environment["KEY_CACHE_SECONDS"] == {"Ref": "KeyCacheSeconds"}
    assert environment["AI_MODEL_PRICES"] == {"Ref": "AiModelPrices"}
    fields = SharedSettings.model_fields
    assert TEMPLATE["Parameters"]["KeyCacheSeconds"]["Default"] == fields["key_cache_seconds"].default
    assert TEMPLATE["Parameters"]["KeyCacheSeconds"]["MaxValue"] == 300


def test_each_function_has_only_the_keys_table_grants_its_code_calls():
    [public] = _grants("PublicApiRole")
    assert set(public["Action"]) == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"}
    assert public["Resource"] == KEYS_ARN
    [worker] = _grants("PublicApiWorkerRole")
    assert set(worker["Action"]) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert worker["Resource"] == KEYS_ARN
    [internal] = _grants("InternalApiRole")
    assert set(internal["Action"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Scan",
        "dynamodb:Query",
    }
    assert internal["Resource"] == KEYS_ARN
    statements = RESOURCES["InternalApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [by_day] = [s for s in statements if s.get("Sid") == "KeysUsageByDay"]
    assert (by_day["Action"], by_day["Resource"]) == ("dynamodb:Query", INDEX_ARN)
    for role in ("PublicApiRole", "PublicApiWorkerRole", "InternalApiRole"):
        for grant in _grants(role):
            # A revocation is a status, never a delete: the record and its billing stay.
            assert "dynamodb:DeleteItem" not in grant["Action"], role


def test_the_internal_function_reads_the_callback_secret_a_new_keys_own_derives_from():
    statements = RESOURCES["InternalApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [reads] = [s for s in statements if s.get("Sid") == "ReadSecrets"]
    assert "job-callback-secret" in str(reads["Resource"])
    assert "JobCallbackSecretParameterName" in str(reads["Resource"])


def test_comprehend_is_granted_only_when_names_are_detected_with_it():
    for role in ("PublicApiRole", "PublicApiWorkerRole"):
        statements = RESOURCES[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [grant] = [s for s in statements if "Fn::If" in s and s["Fn::If"][0] == "UseComprehend"]
        allowed = grant["Fn::If"][1]
        assert (allowed["Action"], allowed["Resource"]) == ("comprehend:DetectPiiEntities", "*")
        assert grant["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert TEMPLATE["Conditions"]["UseComprehend"] == {"Fn::Equals": [{"Ref": "PiiDetector"}, "comprehend"]}
    assert TEMPLATE["Parameters"]["PiiMode"]["Default"] == "off"
    assert TEMPLATE["Parameters"]["PiiDetector"]["Default"] == "regex"
