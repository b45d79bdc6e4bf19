"""The template's resilience SSM parameters: generated from infra/presets, read by both functions,
written only by the internal one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fakes.cfn_template import REPO_ROOT, load_template
from textapi_shared.resilience.presets import bundled_presets, presets_from_json

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
ENVIRONMENT = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
PARAMETERS = {
    "RESILIENCE_PRESET_SSM_PARAMETER": ("ResiliencePresetParameter", "/${AWS::StackName}/resilience/preset"),
    "RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER": (
        "ResilienceCustomConfigParameter",
        "/${AWS::StackName}/resilience/custom-config",
    ),
    "RESILIENCE_PRESETS_SSM_PARAMETER": (
        "ResiliencePresetsParameter",
        "/${AWS::StackName}/resilience/presets",
    ),
}


@pytest.mark.parametrize("variable", PARAMETERS)
def test_each_resilience_parameter_is_a_resource_named_in_the_environment(variable):
    resource, name = PARAMETERS[variable]
    assert ENVIRONMENT[variable] == {"Ref": resource}
    assert RESOURCES[resource]["Type"] == "AWS::SSM::Parameter"
    assert RESOURCES[resource]["Properties"]["Name"] == {"Fn::Sub": name}


def test_the_preset_definitions_parameter_is_the_bundled_preset_files():
    value = RESOURCES["ResiliencePresetsParameter"]["Properties"]["Value"]
    assert presets_from_json(value) == bundled_presets()


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_stage_presets_match_the_cli(stage):
    script = REPO_ROOT / "infra" / "resilience_cli.py"
    env = {"PYTHONPATH": str(REPO_ROOT / "layers/shared")}
    values = json.loads(
        subprocess.run(
            [sys.executable, str(script), "ssm-values", "--stage", stage],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    )
    expected = values[f"/textapi-{stage}/resilience/preset"]
    assert TEMPLATE["Mappings"]["StageResilience"][stage]["Preset"] == expected
    assert RESOURCES["ResilienceCustomConfigParameter"]["Properties"]["Value"] == "{}"


def _policies(function):
    role = RESOURCES[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return json.dumps(RESOURCES[role]["Properties"]["Policies"])


def test_both_functions_read_the_parameters_and_only_the_internal_one_writes():
    for function in ("PublicApiFunction", "InternalApiFunction"):
        for name in ("preset", "custom-config", "presets"):
            assert f"parameter/${{AWS::StackName}}/resilience/{name}" in _policies(function)
    assert "ssm:PutParameter" not in _policies("PublicApiFunction")
    role = RESOURCES["InternalApiFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    [writes] = [
        statement
        for policy in RESOURCES[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Action") == "ssm:PutParameter"
    ]
    written = json.dumps(writes["Resource"])
    assert "parameter/${AWS::StackName}/resilience/preset" in written
    assert "parameter/${AWS::StackName}/resilience/presets" not in written
