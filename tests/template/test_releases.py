"""The second deploy: what SAM's transform (the SAM CLI's own samtranslator, as CloudFormation runs it)
makes of template.yaml when only the layer, a parameter or a setting changed. A function whose version
logical id stays the same keeps its `live` alias, and its snapshot, on the old version, so every change a
function runs with must change every affected version id, and an unchanged deploy must change none.
Also the rollout: each function's CodeDeploy group, its traffic shifting and the alarms that roll it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from functools import cache
from typing import Any

import pytest

from fakes.cfn_template import REPO_ROOT, TEMPLATE_PATH, load_template

TEMPLATE = load_template()
FUNCTIONS = sorted(n for n, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function")
# Offline transform (TESTING-NOTES): code locations become the S3 URIs `sam package` would write (it names
# each upload by the hash of its contents), then samtranslator expands the template.
TRANSFORM = """
import json, sys
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

results = []
for variant in json.loads(sys.stdin.read()):
    template = yaml_parse(open(sys.argv[1]).read())
    for path, value in variant.get("set", []):
        node = template
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    for logical_id, resource in template["Resources"].items():
        for location in ("CodeUri", "ContentUri"):
            if location in resource.get("Properties", {}):
                tag = variant.get("uploads", {}).get(logical_id, "unchanged")
                resource["Properties"][location] = f"s3://bucket/{logical_id}-{tag}.zip"
    results.append(transform(template, variant.get("parameters", {}), NoManagedPolicies()))
print(json.dumps(results))
"""


def transformed(*variants: dict[str, Any]) -> list[dict[str, Any]]:
    """The CloudFormation templates SAM makes of template.yaml for each variant: `uploads` (logical id ->
    a tag standing for its uploaded contents), `parameters` (as CloudFormation passes them), `set`
    ([path, value] edits of the template)."""
    sam_python = REPO_ROOT / ".venv-sam" / "bin" / "python"
    assert sam_python.is_file(), "the SAM CLI environment is missing: run `make install`"
    result = subprocess.run(
        [str(sam_python), "-c", TRANSFORM, str(TEMPLATE_PATH)],
        input=json.dumps(variants),
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def versions(expanded: dict[str, Any]) -> dict[str, str]:
    """Function -> the logical id of the version its `live` alias points to."""
    resources = expanded["Resources"]
    found = {}
    for function in FUNCTIONS:
        alias = resources[f"{function}Aliaslive"]["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        assert resources[alias]["Type"] == "AWS::Lambda::Version"
        found[function] = alias
    return found


@cache
def _second_deploys() -> dict[str, dict[str, str]]:
    layer_a, layer_b, layer_a_again, timeout, digest_a, digest_b = transformed(
        {"uploads": {"SharedLayer": "a"}},
        {"uploads": {"SharedLayer": "b"}},
        {"uploads": {"SharedLayer": "a"}},
        {"uploads": {"SharedLayer": "a"}, "set": [[["Globals", "Function", "Timeout"], 28]]},
        {
            "uploads": {"SharedLayer": "a"},
            "parameters": {"ReleaseDigest": "0123456789abcdef0123456789abcdef"},
        },
        {
            "uploads": {"SharedLayer": "a"},
            "parameters": {"ReleaseDigest": "fedcba98765432100123456789abcdef"},
        },
    )
    return {
        name: versions(expanded)
        for name, expanded in {
            "layer_a": layer_a,
            "layer_b": layer_b,
            "layer_a_again": layer_a_again,
            "timeout": timeout,
            "digest_a": digest_a,
            "digest_b": digest_b,
        }.items()
    }


def test_a_layer_only_change_publishes_a_new_version_of_every_function():
    deploys = _second_deploys()
    before, after = deploys["layer_a"], deploys["layer_b"]
    unchanged = sorted(f for f in FUNCTIONS if before[f] == after[f])
    assert not unchanged, f"a new layer would not reach the `live` alias of {unchanged}"


def test_the_same_contents_publish_nothing():
    deploys = _second_deploys()
    assert deploys["layer_a"] == deploys["layer_a_again"]


def test_a_setting_sams_default_hash_ignores_publishes_exactly_the_functions_it_changes():
    """A timeout-only change of Globals: the functions that take the global timeout get a new version, the
    worker (its own Timeout) keeps its version."""
    deploys = _second_deploys()
    before, after = deploys["layer_a"], deploys["timeout"]
    changed = sorted(f for f in FUNCTIONS if before[f] != after[f])
    own_timeout = {f for f in FUNCTIONS if "Timeout" in TEMPLATE["Resources"][f]["Properties"]}
    assert own_timeout == {"PublicApiWorkerFunction"}
    assert changed == sorted(set(FUNCTIONS) - own_timeout)


def test_the_release_digest_of_make_deploy_publishes_every_function_when_it_changes():
    """SAM hashes the template as written, where a parameter is its name, not its value: the digest that
    `make deploy` computes (sources, template, every parameter value) carries what SAM cannot see."""
    deploys = _second_deploys()
    before, after = deploys["digest_a"], deploys["digest_b"]
    assert not [f for f in FUNCTIONS if before[f] == after[f]]
    assert deploys["digest_a"] == versions(
        transformed(
            {
                "uploads": {"SharedLayer": "b"},
                "parameters": {"ReleaseDigest": "0123456789abcdef0123456789abcdef"},
            }
        )[0]
    ), "with a digest, the digest alone decides (it covers the layer's sources already)"


@cache
def _rollout() -> dict[str, Any]:
    (canary,) = transformed({"parameters": {"DeploymentType": "Canary10Percent5Minutes"}})
    return canary


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_shifts_traffic_through_codedeploy_rolled_back_by_its_own_alarms(function):
    resources = _rollout()["Resources"]
    alias = resources[f"{function}Aliaslive"]
    group_id = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"]["Ref"]
    group = resources[group_id]["Properties"]
    assert group["DeploymentConfigName"] == {"Fn::Sub": "CodeDeployDefault.LambdaCanary10Percent5Minutes"}
    assert {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(
        group["AutoRollbackConfiguration"]["Events"]
    )
    condition, with_alarms, without = group["AlarmConfiguration"]["Fn::If"]
    assert (condition, without) == ("UseRollbackAlarms", {})
    alarms = [alarm["Name"]["Ref"] for alarm in with_alarms["Alarms"]]
    assert alarms, function
    for alarm in alarms:
        properties = resources[alarm]["Properties"]
        watched = json.dumps(properties)
        # The function's own Lambda errors, on the version being deployed, or its own 5xx rate.
        if properties.get("MetricName") == "Errors":
            dimensions = {d["Name"]: d["Value"] for d in properties["Dimensions"]}
            assert dimensions["FunctionName"] == {"Ref": function}
            assert dimensions["ExecutedVersion"] == {
                "Fn::GetAtt": [versions(_rollout())[function], "Version"]
            }
        else:
            service = TEMPLATE["Resources"][function]["Properties"]["Environment"]["Variables"][
                "SERVICE_NAME"
            ]
            assert f'"Value": "{service}"' in watched, alarm
            assert "ServerErrors" in watched, alarm


def test_dev_deploys_at_once_and_staging_and_prod_as_a_canary():
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())

    def overrides(env: str) -> dict[str, str]:
        words = config[env]["deploy"]["parameters"]["parameter_overrides"].split()
        return dict(word.split("=", 1) for word in words)

    assert overrides("default")["DeploymentType"] == "AllAtOnce"
    assert overrides("staging")["DeploymentType"].startswith("Canary")
    assert overrides("prod")["DeploymentType"].startswith("Canary")
    assert TEMPLATE["Parameters"]["DeploymentType"]["Default"].startswith("Canary"), "safe unless told"


def test_superseded_versions_are_deleted_so_no_old_snapshot_stays_billed():
    resources = _rollout()["Resources"]
    for function, version in versions(_rollout()).items():
        assert resources[version]["DeletionPolicy"] == "Delete", function
