"""A handler of the assembled artifact running in its own isolated interpreter (tests/artifact/runner.py),
configured with the environment template.yaml gives it, and driven with API Gateway v2 events."""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakes.api_clients import ApiResponse
from fakes.apigw_events import build_http_event, response_text
from fakes.cfn_resolve import TemplateResolver

if TYPE_CHECKING:
    from artifact.layout import Artifact

RUNNER = Path(__file__).with_name("runner.py")
# Log lines that mean a feature did not run as configured: a missing module, a backend that silently
# degraded to memory, a configuration that fell back to the bundled preset, a crash.
SILENT_FAILURES = (
    "ModuleNotFoundError",
    "ImportError",
    "cache backend error",
    "breaker store unavailable",
    "bundled preset applies",
    "Traceback",
    "unhandled error",
)


def function_environment(resolver: TemplateResolver, function_id: str) -> dict[str, str]:
    """The variables Lambda would set for a function: Globals plus the function's own, resolved."""
    template = resolver._template
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    own = template["Resources"][function_id]["Properties"].get("Environment", {}).get("Variables", {})
    variables.update(own)
    resolved = resolver.resolve(variables)
    return {name: str(value) for name, value in resolved.items()}


class LambdaInstance:
    """One execution environment: cold start on creation, then one invocation per `invoke`."""

    def __init__(
        self,
        python: str,
        artifact: Artifact,
        function_id: str,
        environment: dict[str, str],
        log_path: Path,
        calls_path: Path | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        code = artifact.functions[function_id]
        self.function_id = function_id
        self.environment = dict(environment)
        self.calls_path = calls_path
        self.log_path = log_path
        self._timeout_s = timeout_s
        env = {
            "AWS_LAMBDA_FUNCTION_NAME": function_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(code.task_dir),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            **environment,
        }
        if calls_path is not None:
            calls_path.parent.mkdir(parents=True, exist_ok=True)
            env["TEXTAPI_ARTIFACT_CALLS"] = str(calls_path)
        self._log = open(log_path, "ab")  # noqa: SIM115 (kept open for the life of the process)
        self._process = subprocess.Popen(
            [python, "-I", "-S", str(RUNNER), str(code.task_dir), str(artifact.layer_python), code.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            cwd=code.task_dir,
        )
        self.cold_start = self._read()
        if "init_error" in self.cold_start:
            logs = self.logs
            self.close()
            raise RuntimeError(
                f"{function_id} failed its cold start: {self.cold_start['init_error']}\n{logs}"
            )

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], self._timeout_s)
        line = self._process.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(
                f"{self.function_id} did not answer (exit {self._process.poll()}):\n{self.logs}"
            )
        return json.loads(line)

    def invoke(self, event: dict[str, Any], timeout_ms: int = 29_000) -> dict[str, Any]:
        """The handler's return value for `event`; a raised exception fails the test."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"event": event, "timeout_ms": timeout_ms}).encode() + b"\n")
        self._process.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise AssertionError(f"{self.function_id} raised {reply['error']}:\n{self.logs}")
        return reply["response"]

    def request(
        self, method: str, path: str, *, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> ApiResponse:
        body = json.dumps(json_body).encode() if json_body is not None else None
        response = self.invoke(build_http_event(method, path, headers=headers, body=body))
        headers_out = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        return ApiResponse(response["statusCode"], headers_out, response_text(response))

    @property
    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def silent_failures(self) -> list[str]:
        """Log lines that show a feature not running as configured (see SILENT_FAILURES)."""
        return [line for line in self.logs.splitlines() if any(marker in line for marker in SILENT_FAILURES)]

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()


def clean_environment() -> dict[str, str]:
    """What the runner may inherit from the test process: nothing but the AWS test credentials."""
    keep = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")
    return {name: os.environ[name] for name in keep if name in os.environ}
