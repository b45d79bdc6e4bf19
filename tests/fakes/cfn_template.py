"""template.yaml as plain data: CloudFormation short tags become their long-form dicts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

_LONG_FORMS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        tag: f"Fn::{tag}"
        for tag in (
            "Sub",
            "GetAtt",
            "If",
            "Equals",
            "Not",
            "And",
            "Or",
            "Select",
            "Join",
            "Split",
            "FindInMap",
            "ImportValue",
            "Base64",
            "Cidr",
            "GetAZs",
            "Contains",
        )
    },
}
_INTEGRATION_TARGET = re.compile(r"^integrations/\$\{(\w+)\}$")
_SUB_REFERENCE = re.compile(r"\$\{(\w+)(?:\.Arn)?\}")


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short tags; a subclass so the global SafeLoader stays untouched."""


def _construct_short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if suffix not in _LONG_FORMS:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown CloudFormation tag !{suffix}", node.start_mark
        )
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":  # `!GetAtt Resource.Attribute`; the attribute may itself contain dots
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {_LONG_FORMS[suffix]: value}


_TemplateLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as dicts and lists, intrinsic functions in their long form."""
    with open(path, encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_TemplateLoader)  # noqa: S506 (a SafeLoader subclass)


def http_api_routes(template: dict[str, Any]) -> dict[str, str]:
    """Every HTTP API route key (`$default` included) mapped to the logical id of the function it invokes.

    Reads SAM `HttpApi` events and native `AWS::ApiGatewayV2::Route` resources, following
    Route -> Target integration -> IntegrationUri for the latter.
    """
    resources = template["Resources"]
    routes: dict[str, str] = {}

    def add(route_key: str, function: str) -> None:
        if route_key in routes:
            raise ValueError(f"route {route_key!r} is defined twice")
        routes[route_key] = function

    for logical_id, resource in resources.items():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            for event in (properties.get("Events") or {}).values():
                if event.get("Type") == "HttpApi":
                    add(_sam_route_key(event.get("Properties") or {}), logical_id)
        elif resource["Type"] == "AWS::ApiGatewayV2::Route":
            integration_id = _integration_id(properties["Target"], logical_id)
            add(properties["RouteKey"], _invoked_function(resources, integration_id))
    return routes


def _sam_route_key(event_properties: dict[str, Any]) -> str:
    path, method = event_properties.get("Path"), event_properties.get("Method")
    if path is None and method is None:
        return "$default"
    method = str(method or "ANY").upper()
    return f"{'ANY' if method == 'X-AMAZON-APIGATEWAY-ANY-METHOD' else method} {path}"


def _integration_id(target: Any, route_id: str) -> str:
    if isinstance(target, dict) and isinstance(target.get("Fn::Sub"), str):
        match = _INTEGRATION_TARGET.match(target["Fn::Sub"])
        if match:
            return match.group(1)
    if isinstance(target, dict) and "Fn::Join" in target:
        delimiter, parts = target["Fn::Join"]
        if delimiter == "" and len(parts) == 2 and parts[0] == "integrations/" and "Ref" in parts[1]:
            return parts[1]["Ref"]
    raise ValueError(f"route {route_id}: cannot resolve Target {target!r} to an integration")


def _invoked_function(resources: dict[str, Any], integration_id: str) -> str:
    integration = resources[integration_id]
    if integration["Type"] != "AWS::ApiGatewayV2::Integration":
        raise ValueError(f"{integration_id} is not an AWS::ApiGatewayV2::Integration")
    uri = integration["Properties"]["IntegrationUri"]
    candidates: list[str] = []
    if isinstance(uri, dict) and "Fn::GetAtt" in uri:
        candidates = [uri["Fn::GetAtt"][0]]
    elif isinstance(uri, dict) and "Ref" in uri:
        candidates = [uri["Ref"].split(".")[0]]  # `Function.Alias`: SAM's reference to the alias
    elif isinstance(uri, dict) and "Fn::Sub" in uri:
        text = uri["Fn::Sub"][0] if isinstance(uri["Fn::Sub"], list) else uri["Fn::Sub"]
        candidates = _SUB_REFERENCE.findall(text)
    functions = [
        name
        for name in candidates
        if resources.get(name, {}).get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    ]
    if len(functions) != 1:
        raise ValueError(f"{integration_id}: IntegrationUri {uri!r} does not name exactly one function")
    return functions[0]
