"""What a deploy of template.yaml creates in AWS, created on the moto server instead: the template's SSM
parameters (resolved for the given parameters and stack name), the cache table when the backend is
DynamoDB, and the SecureStrings an operator puts before the first deploy (API keys, admin keys, the
Gemini key), exactly where the template expects them."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, NamedTuple

import boto3

from fakes.aws_tables import create_cache_table
from fakes.cfn_resolve import TemplateResolver
from fakes.cfn_template import load_template

STACK_NAME = "textapi-artifact"
GEMINI_KEY_PARAMETER = f"/{STACK_NAME}/gemini-api-key"


class Stack(NamedTuple):
    scenario: str  # names the deployment in logs and recorded calls
    parameters: dict[str, str]  # the template parameters deployed with
    resources: dict[str, str]  # logical id → physical name (what `Ref` gives)
    public_key: str
    admin_key: str
    table: str | None
    ssm: Any  # boto3 client on the moto server
    dynamodb: Any

    def resolver(self, attributes: dict[str, str] | None = None) -> TemplateResolver:
        return TemplateResolver(
            load_template(),
            parameters=self.parameters,
            stack_name=STACK_NAME,
            resources=self.resources,
            attributes=attributes,
        )


def deploy_stack(
    scenario: str, moto_endpoint: str, parameters: dict[str, str], *, gemini_api_key: str
) -> Stack:
    """Create what the deploy and the operator would; every name comes from the template."""
    parameters = {**parameters, "GeminiApiKeyParameterName": GEMINI_KEY_PARAMETER}
    clients = {
        service: boto3.client(service, endpoint_url=moto_endpoint, region_name="us-east-1")
        for service in ("ssm", "dynamodb")
    }
    resources: dict[str, str] = {}
    table = None
    if parameters.get("CacheBackend") == "dynamodb":
        table = resources["CacheTable"] = f"{STACK_NAME}-cache-{uuid.uuid4().hex[:8]}"
        create_cache_table(clients["dynamodb"], table)
    resolver = TemplateResolver(
        load_template(), parameters=parameters, stack_name=STACK_NAME, resources=resources
    )
    for logical_id, resource in resolver._template["Resources"].items():
        if resource["Type"] == "AWS::SSM::Parameter" and resolver.exists(logical_id):
            properties = resolver.resolve(resource["Properties"])
            clients["ssm"].put_parameter(
                Name=properties["Name"], Value=properties["Value"], Type=properties["Type"], Overwrite=True
            )

    public_key, admin_key = f"pk-{secrets.token_hex(12)}", f"ak-{secrets.token_hex(12)}"
    template = resolver._template
    public_keys = template["Globals"]["Function"]["Environment"]["Variables"]["API_KEYS_SSM_PARAMETER"]
    internal = template["Resources"]["InternalApiFunction"]["Properties"]["Environment"]["Variables"]
    for name, value in (
        (resolver.resolve(public_keys), public_key),
        (resolver.resolve(internal["INTERNAL_API_KEYS_SSM_PARAMETER"]), admin_key),
        (GEMINI_KEY_PARAMETER, gemini_api_key),
    ):
        clients["ssm"].put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    return Stack(
        scenario, parameters, resources, public_key, admin_key, table, clients["ssm"], clients["dynamodb"]
    )
