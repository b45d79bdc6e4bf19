"""One Lambda execution environment per OS process: both functions' real `lambda_handler`s, configured
from the environment as in AWS, driven with API Gateway v2 events over a pipe.

`python -m fakes.lambda_worker` reads one JSON request per line on stdin (`method`, `path`, `headers`,
`body`) and answers one JSON line (`status`, `headers`, `body`); `/internal...` goes to the internal
function, everything else to the public one. Whatever else the process prints (the functions' logs)
goes to stderr, so the protocol stays clean. `WorkerProcess` is the test side.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from fakes.api_clients import ApiResponse

ROOT = Path(__file__).resolve().parents[2]
# pytest's `pythonpath` (pyproject.toml): the Lambda import roots, then the test helpers.
CODE_PATH = [
    ROOT / folder
    for folder in ("layers/shared", "functions/public_api", "functions/internal_api", "infra/local", "tests")
]


def serve(requests: IO[str], answers: IO[str]) -> None:
    from fakes.apigw_events import build_http_event, response_text
    from fakes.lambda_context import FakeLambdaContext
    from internal_api.main import lambda_handler as internal_handler
    from public_api.main import lambda_handler as public_handler

    for line in requests:
        request = json.loads(line)
        handler = internal_handler if request["path"].startswith("/internal") else public_handler
        body = request.get("body")
        event = build_http_event(
            request["method"],
            request["path"],
            headers=request.get("headers"),
            body=json.dumps(body).encode() if body is not None else None,
        )
        response = handler(event, FakeLambdaContext())
        answer = {
            "status": response["statusCode"],
            "headers": {k.lower(): v for k, v in (response.get("headers") or {}).items()},
            "body": response_text(response),
        }
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


class WorkerProcess:
    """A worker started with `environment` (on top of PATH, PYTHONPATH and AWS test credentials)."""

    def __init__(self, environment: dict[str, str], log_file: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(str(path) for path in CODE_PATH),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            **environment,
        }
        self._log = log_file.open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "fakes.lambda_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            text=True,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = 30.0,
    ) -> ApiResponse:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        line = json.dumps({"method": method, "path": path, "headers": headers or {}, "body": json_body})
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        if not ready:
            self._process.kill()
            raise RuntimeError(f"the worker process did not answer {method} {path} within {timeout_s:g} s")
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError(
                f"the worker process exited (code {self._process.wait(timeout=10)}); see its log"
            )
        parsed = json.loads(answer)
        return ApiResponse(parsed["status"], parsed["headers"], parsed["body"])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._log.close()


if __name__ == "__main__":
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # logs printed to stdout land in stderr
    serve(sys.stdin, protocol)
