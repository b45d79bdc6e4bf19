"""The jobs resources of template.yaml: queue and DLQ, worker and its event source, jobs table,
least-privilege grants, alarms and dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

from fakes.cfn_template import load_template
from public_api.config import PublicApiSettings
from textapi_shared.monitoring.metric_names import MetricName

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE["Globals"]["Function"]
WORKER = RESOURCES["PublicApiWorkerFunction"]["Properties"]
PUBLIC = RESOURCES["PublicApiFunction"]["Properties"]
JOB_TABLE_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}


def _of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == resource_type}


def _environment(properties: dict[str, Any]) -> dict[str, Any]:
    return {**GLOBAL_FUNCTION["Environment"]["Variables"], **properties["Environment"]["Variables"]}


def _statements(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the function's own role (`!If [cond, statement, NoValue]` unwrapped)."""
    role = RESOURCES[properties["Role"]["Fn::GetAtt"][0]]["Properties"]
    return [
        s["Fn::If"][1] if "Fn::If" in s else s
        for policy in role["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    return set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])


def _on(properties: dict[str, Any], resource: dict[str, Any]) -> list[set[str]]:
    return [_actions(s) for s in _statements(properties) if s["Resource"] == resource]


def test_worker_is_a_second_handler_of_the_public_package_on_the_shared_layer():
    assert WORKER["CodeUri"] == PUBLIC["CodeUri"] == "functions/public_api/"
    assert WORKER["Handler"] == "public_api.worker.lambda_handler"
    assert "Layers" not in WORKER  # the layer comes from Globals, like every function's
    assert GLOBAL_FUNCTION["Layers"] == [{"Ref": "SharedLayer"}]


def test_no_sam_sqs_event_so_no_account_wide_queue_role():
    # SAM's `SQS` event attaches AWSLambdaSQSQueueExecutionRole: receive/delete on every queue (Resource *).
    for name, function in _of_type("AWS::Serverless::Function").items():
        events = function["Properties"].get("Events") or {}
        assert not [e for e in events.values() if e["Type"] == "SQS"], name
        assert "ManagedPolicyArns" not in function["Properties"], name
        assert "Policies" not in function["Properties"], name  # a written-out role instead
        for statement in _statements(function["Properties"]):
            if any(action.startswith("sqs:") for action in _actions(statement)):
                assert statement["Resource"] == {"Fn::GetAtt": ["JobsQueue", "Arn"]}, name


def test_event_source_reports_partial_failures_and_caps_concurrency():
    (mapping,) = _of_type("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["JobsQueue", "Arn"]}
    assert properties["FunctionName"] == {"Ref": "PublicApiWorkerFunction.Alias"}  # the SnapStart version
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "WorkerMaximumConcurrency"}}
    concurrency = PARAMETERS["WorkerMaximumConcurrency"]
    assert (concurrency["MinValue"], concurrency["MaxValue"]) == (2, 1000)
    assert "BATCH_AI_CONCURRENCY_LIMIT" in concurrency["Description"]


def test_queue_visibility_is_six_worker_timeouts_and_dead_letters_after_the_receive_count():
    queue = RESOURCES["JobsQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * WORKER["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "JobMaxReceiveCount"},
    }
    # The worker must know which receive is the last, to fail items instead of losing them.
    assert _environment(WORKER)["JOB_MAX_RECEIVE_COUNT"] == {"Ref": "JobMaxReceiveCount"}
    dead_letters = RESOURCES["JobsDeadLetterQueue"]["Properties"]
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is dead_letters["SqsManagedSseEnabled"] is True


def test_jobs_table_has_keys_and_ttl_the_store_uses():
    table = RESOURCES["JobsTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_both_functions_run_jobs_on_sqs_and_the_table_with_settings_the_code_reads():
    fields = {name.upper() for name in PublicApiSettings.model_fields}
    fields |= {"AWS_REGION", "APP_VERSION"}
    for properties in (PUBLIC, WORKER):
        environment = _environment(properties)
        assert environment["JOBS_BACKEND"] == "sqs"
        assert environment["JOBS_QUEUE_URL"] == {"Ref": "JobsQueue"}
        assert environment["JOBS_TABLE_NAME"] == {"Ref": "JobsTable"}
        assert environment["JOB_RETENTION_DAYS"] == {"Ref": "JobRetentionDays"}
        assert set(environment) <= fields, set(environment) - fields


def test_public_function_may_queue_and_use_job_rows_but_not_consume():
    assert _on(PUBLIC, {"Fn::GetAtt": ["JobsQueue", "Arn"]}) == [{"sqs:SendMessage"}]
    assert _on(PUBLIC, {"Fn::GetAtt": ["JobsTable", "Arn"]}) == [JOB_TABLE_ACTIONS]
    # It reads the callback secret at submission: a callback that could not be signed is refused (409).
    [reads] = [s for s in _statements(PUBLIC) if s.get("Sid") == "ReadSecrets"]
    assert "job-callback-secret" in json.dumps(reads)
    assert "JobCallbackSecretParameterName" in json.dumps(reads)


def test_worker_may_consume_its_queue_and_write_results_only():
    assert _on(WORKER, {"Fn::GetAtt": ["JobsQueue", "Arn"]}) == [
        {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
    ]
    assert _on(WORKER, {"Fn::GetAtt": ["JobsTable", "Arn"]}) == [
        JOB_TABLE_ACTIONS | {"dynamodb:BatchGetItem"}
    ]
    [reads] = [s for s in _statements(WORKER) if s.get("Sid") == "ReadSecrets"]
    assert "job-callback-secret" in json.dumps(reads)
    assert "JobCallbackSecretParameterName" in json.dumps(reads)
    assert "api-keys" not in json.dumps(_statements(WORKER))  # it serves no HTTP request: no key to check
    assert _on(WORKER, {"Fn::GetAtt": ["CacheTable", "Arn"]}), "the same cache as the public function"


def test_alarms_watch_dead_letters_and_the_age_of_the_oldest_message():
    dead = RESOURCES["JobsDeadLetterAlarm"]["Properties"]
    assert (dead["Namespace"], dead["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dead["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsDeadLetterQueue", "QueueName"]}}
    ]
    assert (dead["Threshold"], dead["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    age = RESOURCES["JobsQueueAgeAlarm"]["Properties"]
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsQueue", "QueueName"]}}]
    assert age["Threshold"] == {"Ref": "JobQueueAgeAlarmSeconds"}


def test_dashboard_shows_queue_depth_items_and_failures_with_metrics_the_code_emits():
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    titles = {w["properties"]["title"]: w["properties"] for w in widgets}
    assert {"Job queue depth", "Job items processed", "Job failures"} <= titles.keys()
    assert "${JobsQueue.QueueName}" in body
    assert "${JobsDeadLetterQueue.QueueName}" in body
    emitted = {str(name) for name in MetricName}
    for title in ("Job items processed", "Job failures"):
        named = {row[1] for row in titles[title]["metrics"] if row[1].startswith("Job")}
        assert named, title
        assert named <= emitted, named - emitted


def test_outputs_name_the_queues_table_and_worker():
    assert {"JobsQueueUrl", "JobsDeadLetterQueueUrl", "JobsTableName", "PublicApiWorkerFunctionArn"} <= set(
        TEMPLATE["Outputs"]
    )
