"""What a deploy of template.yaml creates in AWS, created on the moto server instead: the template's SSM
parameters (resolved for the given parameters and stack name), the cache table when the backend is
DynamoDB, the jobs queue, its dead-letter queue, the jobs table and the keys table, and the SecureStrings
an operator puts before the first deploy (API keys, admin keys, the Gemini key, the job callback
secret), exactly where the template expects them."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any, NamedTuple

import boto3

from fakes.aws_tables import create_cache_table, create_jobs_table, create_keys_table
from fakes.cfn_resolve import TemplateResolver
from fakes.cfn_template import load_template

STACK_NAME = "textapi-artifact"
GEMINI_KEY_PARAMETER = f"/{STACK_NAME}/gemini-api-key"
ACCOUNT = "123456789012"


class Stack(NamedTuple):
    scenario: str  # names the deployment in logs and recorded calls
    parameters: dict[str, str]  # the template parameters deployed with
    resources: dict[str, str]  # logical id → physical name (what `Ref` gives)
    attributes: dict[str, str]  # "Id.Attribute" → what `Fn::GetAtt` gives
    public_key: str
    admin_key: str
    callback_secret: str
    table: str | None
    clients: dict[str, Any]  # boto3 clients on the moto server, by service

    def resolver(self, attributes: dict[str, str] | None = None) -> TemplateResolver:
        return TemplateResolver(
            load_template(),
            parameters=self.parameters,
            stack_name=STACK_NAME,
            resources=self.resources,
            attributes={**self.attributes, **(attributes or {})},
        )


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def deploy_stack(
    scenario: str, moto_endpoint: str, parameters: dict[str, str], *, gemini_api_key: str
) -> Stack:
    """Create what the deploy and the operator would; every name comes from the template."""
    parameters = {**parameters, "GeminiApiKeyParameterName": GEMINI_KEY_PARAMETER}
    clients = {
        service: boto3.client(service, endpoint_url=moto_endpoint, region_name="us-east-1")
        for service in ("ssm", "dynamodb", "sqs")
    }
    suffix = f"{scenario}-{uuid.uuid4().hex[:8]}"
    resources: dict[str, str] = {
        "JobsTable": f"{STACK_NAME}-jobs-{suffix}",
        "KeysTable": f"{STACK_NAME}-keys-{suffix}",
    }
    attributes: dict[str, str] = {}
    create_jobs_table(clients["dynamodb"], resources["JobsTable"])
    create_keys_table(clients["dynamodb"], resources["KeysTable"])
    table = None
    if parameters.get("CacheBackend") == "dynamodb":
        table = resources["CacheTable"] = f"{STACK_NAME}-cache-{suffix}"
        create_cache_table(clients["dynamodb"], table)
    resolver = TemplateResolver(
        load_template(), parameters=parameters, stack_name=STACK_NAME, resources=resources
    )
    template = resolver._template

    dead_letters = template["Resources"]["JobsDeadLetterQueue"]["Properties"]
    url, arn = _queue(
        clients["sqs"],
        f"{STACK_NAME}-dlq-{suffix}",
        {"MessageRetentionPeriod": str(dead_letters["MessageRetentionPeriod"])},
    )
    resources["JobsDeadLetterQueue"] = url
    attributes.update(
        {"JobsDeadLetterQueue.Arn": arn, "JobsDeadLetterQueue.QueueName": arn.rsplit(":", 1)[1]}
    )
    queue = TemplateResolver(
        template, parameters=parameters, stack_name=STACK_NAME, resources=resources, attributes=attributes
    ).resolve(template["Resources"]["JobsQueue"]["Properties"])
    url, arn = _queue(
        clients["sqs"],
        f"{STACK_NAME}-jobs-{suffix}",
        {
            "VisibilityTimeout": str(queue["VisibilityTimeout"]),
            "MessageRetentionPeriod": str(queue["MessageRetentionPeriod"]),
            "RedrivePolicy": json.dumps(queue["RedrivePolicy"]),
        },
    )
    resources["JobsQueue"] = url
    attributes.update({"JobsQueue.Arn": arn, "JobsQueue.QueueName": arn.rsplit(":", 1)[1]})

    resolver = TemplateResolver(
        template, parameters=parameters, stack_name=STACK_NAME, resources=resources, attributes=attributes
    )
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SSM::Parameter" and resolver.exists(logical_id):
            properties = resolver.resolve(resource["Properties"])
            clients["ssm"].put_parameter(
                Name=properties["Name"], Value=properties["Value"], Type=properties["Type"], Overwrite=True
            )

    public_key, admin_key = f"pk-{secrets.token_hex(12)}", f"ak-{secrets.token_hex(12)}"
    callback_secret = secrets.token_hex(16)
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    internal = template["Resources"]["InternalApiFunction"]["Properties"]["Environment"]["Variables"]
    for name, value in (
        (resolver.resolve(shared["API_KEYS_SSM_PARAMETER"]), public_key),
        (resolver.resolve(internal["INTERNAL_API_KEYS_SSM_PARAMETER"]), admin_key),
        (GEMINI_KEY_PARAMETER, gemini_api_key),
        (resolver.resolve(shared["JOB_CALLBACK_SECRET_SSM_PARAMETER"]), callback_secret),
    ):
        clients["ssm"].put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    return Stack(
        scenario, parameters, resources, attributes, public_key, admin_key, callback_secret, table, clients
    )
