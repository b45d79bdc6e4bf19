"""The artifact level (`make test-artifact`): the `sam build` layout, assembled from template.yaml, run in
isolated python3.13 interpreters against real local services (Redis, moto server, fake Gemini)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from artifact.lambda_instance import LambdaInstance, clean_environment, function_environment
from artifact.layout import build_artifact, lambda_python
from artifact.scenarios import run_dynamodb_scenario, run_pii_scenario, run_redis_scenario
from fakes.gemini_server import FakeGeminiServer

if TYPE_CHECKING:
    from pathlib import Path

    from artifact.stack import Stack


@pytest.fixture(scope="session")
def runtime_python() -> str:
    return lambda_python()


@pytest.fixture(scope="session")
def artifact(runtime_python):
    return build_artifact(python=runtime_python)


@pytest.fixture(scope="session")
def aws_calls_path(tmp_path_factory) -> Path:
    """Where every instance records its AWS calls: `<scenario>/<function id>.jsonl`."""
    return tmp_path_factory.mktemp("aws-calls")


def recorded_calls(directory: Path) -> dict[tuple[str, str], list[dict]]:
    """Every recorded call by (scenario, function id)."""
    return {
        (path.parent.name, path.stem): [json.loads(line) for line in path.read_text().splitlines() if line]
        for path in directory.glob("*/*.jsonl")
    }


@pytest.fixture(scope="session")
def gemini():
    with FakeGeminiServer() as server:
        yield server


@pytest.fixture(scope="session")
def launch(runtime_python, artifact, aws_calls_path, moto_endpoint, gemini, tmp_path_factory):
    """`launch(stack, function_id, overrides, attributes=...)` → a cold-started instance of a template
    function with the environment the template gives it in `stack`; the only overrides by default are
    the endpoints of the local stand-ins (moto for AWS, the fake Gemini server). Its AWS calls are
    recorded under the stack's scenario name."""
    started: list[LambdaInstance] = []
    logs = tmp_path_factory.mktemp("lambda-logs")

    def start(
        stack: Stack,
        function_id: str,
        overrides: dict[str, str] | None = None,
        *,
        attributes: dict[str, str] | None = None,
    ) -> LambdaInstance:
        environment = {
            **clean_environment(),
            **function_environment(stack.resolver(attributes), function_id),
            "AWS_ENDPOINT_URL": moto_endpoint,
            "GEMINI_BASE_URL": gemini.base_url,
            **(overrides or {}),
        }
        scenario = aws_calls_path / stack.scenario
        scenario.mkdir(exist_ok=True)
        (scenario / "stack.json").write_text(
            json.dumps(
                {"parameters": stack.parameters, "resources": stack.resources, "attributes": stack.attributes}
            )
        )
        instance = LambdaInstance(
            runtime_python,
            artifact,
            function_id,
            environment,
            log_path=logs / f"{stack.scenario}-{function_id}-{len(started)}.log",
            calls_path=aws_calls_path / stack.scenario / f"{function_id}.jsonl",
        )
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.close()


@pytest.fixture(scope="session")
def redis_scenario(launch, moto_endpoint, gemini, redis_cluster):
    return run_redis_scenario(launch, moto_endpoint, gemini, redis_cluster)


@pytest.fixture(scope="session")
def dynamodb_scenario(launch, moto_endpoint, gemini, tmp_path_factory):
    return run_dynamodb_scenario(launch, moto_endpoint, gemini, tmp_path_factory.mktemp("dynamodb-scenario"))


@pytest.fixture(scope="session")
def pii_scenario(launch, moto_endpoint, gemini):
    return run_pii_scenario(launch, moto_endpoint, gemini)
