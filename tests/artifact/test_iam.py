"""Least privilege, proven: each function's role (template.yaml expanded by samtranslator, as CloudFormation
receives it) must allow every AWS call the function made while the artifact scenarios ran (else a real
deploy answers AccessDenied), and every grant must have been used by some call (else it is more than the
code needs). The calls were recorded inside the isolated interpreters, at botocore, with their resources.
"""

from __future__ import annotations

import json
import os
import subprocess
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import NamedTuple

from artifact.stack import STACK_NAME
from fakes.cfn_resolve import TemplateResolver
from fakes.cfn_template import REPO_ROOT, TEMPLATE_PATH

REGION, ACCOUNT = "us-east-1", "123456789012"
# sam validate's way: local code locations become placeholder S3 URIs, then samtranslator expands.
TRANSLATE = """
import json, sys
from samcli.yamlhelper import yaml_parse
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    for location in ("CodeUri", "ContentUri"):
        if location in resource.get("Properties", {}):
            resource["Properties"][location] = "s3://bucket/key"
translator = Translator(managed_policy_map={}, sam_parser=Parser(), plugins=[])
print(json.dumps(translator.translate(template, parameter_values={}, get_managed_policy_map=lambda: {})))
"""


@cache
def expanded_template() -> dict:
    sam_python = REPO_ROOT / ".venv-sam" / "bin" / "python"
    assert sam_python.is_file(), "the SAM CLI environment is missing: run `make install`"
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": REGION}
    result = subprocess.run(
        [str(sam_python), "-c", TRANSLATE, str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


class Grant(NamedTuple):
    action: str
    pattern: str  # the resource ARN (pattern) under one deployment's parameters
    resource: str  # the resource as the template writes it: the same grant in every deployment


def role_grants(resolver: TemplateResolver, function_id: str) -> set[Grant]:
    """What the function's role allows under the resolver's parameters (statements and resources that
    an `!If` leaves out are not granted)."""
    resources = resolver._template["Resources"]
    role_id = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    grants = set()
    for policy in resources[role_id]["Properties"].get("Policies", []):
        for written in policy["PolicyDocument"]["Statement"]:
            statement = resolver.resolve(written)
            if statement is None:
                continue
            if "Fn::If" in written:  # the statement the condition kept, as written
                written = written["Fn::If"][1 if resolver.condition(written["Fn::If"][0]) else 2]
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = written["Resource"] if isinstance(written["Resource"], list) else [written["Resource"]]
            for target in targets:
                pattern = resolver.resolve(target)
                if pattern is not None:
                    key = json.dumps(target, sort_keys=True)
                    grants |= {Grant(action, pattern, key) for action in actions}
    return grants


def iam_action(call: dict) -> str:
    """The IAM action that authorises a recorded API call. SQS authorises its batch calls by the single
    action (SendMessageBatch needs sqs:SendMessage, DeleteMessageBatch sqs:DeleteMessage)."""
    action = call["action"]
    return action.removesuffix("Batch") if action.startswith("sqs:") else action


def call_arns(call: dict) -> list[str]:
    service = call["action"].split(":", 1)[0]
    if service == "dynamodb":
        return [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}" for name in call["resources"]]
    if service == "ssm":
        return [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}" for name in call["resources"]]
    if service == "sqs":
        return [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rsplit('/', 1)[-1]}" for url in call["resources"]]
    if service == "comprehend":  # DetectPiiEntities acts on no resource: IAM grants it on "*" only
        return ["*"]
    raise AssertionError(f"no ARN mapping for {call['action']}: add one")


def test_every_recorded_call_is_granted_and_every_grant_was_used(
    redis_scenario, dynamodb_scenario, pii_scenario, aws_calls_path
):
    template = expanded_template()
    # (function, action, resource as written): a grant is used when some deployment's call needed it.
    granted: set[tuple[str, str, str]] = set()
    used: set[tuple[str, str, str]] = set()
    denied: list[str] = []
    for scenario in sorted(p for p in Path(aws_calls_path).iterdir() if p.is_dir()):
        stack = json.loads((scenario / "stack.json").read_text())
        resolver = TemplateResolver(
            template,
            parameters=stack["parameters"],
            stack_name=STACK_NAME,
            resources=stack["resources"],
            attributes=stack["attributes"],
        )
        for calls in scenario.glob("*.jsonl"):
            function = calls.stem
            grants = role_grants(resolver, function)
            granted |= {(function, grant.action, grant.resource) for grant in grants}
            for call in (json.loads(line) for line in calls.read_text().splitlines() if line):
                action = iam_action(call)
                for arn in call_arns(call):
                    allowing = {
                        g for g in grants if fnmatchcase(action, g.action) and fnmatchcase(arn, g.pattern)
                    }
                    if not allowing:
                        denied.append(f"{scenario.name}: {function} {action} on {arn}")
                    used |= {(function, grant.action, grant.resource) for grant in allowing}
    assert not denied, "calls the role does not allow (AccessDenied in AWS):\n" + "\n".join(
        sorted(set(denied))
    )
    unused = sorted(granted - used)
    assert not unused, "grants no recorded call needed (more than least privilege):\n" + "\n".join(
        f"{function}: {action} on {resource}" for function, action, resource in unused
    )
    assert {function for function, _, _ in used} == {
        "PublicApiFunction",
        "InternalApiFunction",
        "PublicApiWorkerFunction",
    }


# The Lambda service's own work for a function, not calls the code makes: its log capture (always), the
# network interfaces of a function in a VPC (CacheBackend=redis), the X-Ray daemon that uploads the traces
# of an actively traced function (TracingEnabled=true). Nothing is recorded for them in the function's
# interpreter, so the comparison above cannot prove them: each must be granted exactly when it is needed.
SERVICE_POLICIES = {
    "AWSLambdaBasicExecutionRole": lambda parameters: True,
    "AWSLambdaVPCAccessExecutionRole": lambda parameters: parameters.get("CacheBackend") == "redis",
    "AWSXRayDaemonWriteAccess": lambda parameters: parameters.get("TracingEnabled") == "true",
}


def test_the_lambda_services_managed_policies_come_exactly_with_what_needs_them():
    template = expanded_template()
    functions = ("PublicApiFunction", "InternalApiFunction", "PublicApiWorkerFunction")
    for parameters in (
        {},
        {"CacheBackend": "redis"},
        {"TracingEnabled": "true"},
        {"CacheBackend": "redis", "TracingEnabled": "true"},
    ):
        resolver = TemplateResolver(template, parameters=parameters, stack_name=STACK_NAME)
        expected = {name for name, needed in SERVICE_POLICIES.items() if needed(parameters)}
        tracing = "Active" if parameters.get("TracingEnabled") == "true" else "PassThrough"
        for function in functions:
            resources = template["Resources"]
            role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
            arns = resolver.resolve(role["Properties"]["ManagedPolicyArns"])
            assert {arn.rsplit("/", 1)[-1] for arn in arns} == expected, (function, parameters)
            assert resolver.resolve(resources[function]["Properties"]["TracingConfig"]) == {"Mode": tracing}
