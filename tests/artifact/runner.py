"""One Lambda execution environment: a handler of the `sam build` layout, run as the runtime runs it.

    python3.13 -I -S runner.py <task_dir> <layer_python_dir> <module.attribute>

Isolated (`-I`: no PYTHON* variables, no user site; `-S`: no site-packages at all), so `sys.path` is only
the function's folder (/var/task), the layer's python/ folder (/opt/python) and the standard library.
The module is imported once (the cold start); then each stdin line is one invocation
(`{"event": ..., "timeout_ms": ...}`) answered by one line on stdout (`{"response": ...}` or
`{"error": ...}`). What the function itself prints (logs, EMF metrics) goes to stderr, as CloudWatch
would receive it. With TEXTAPI_ARTIFACT_CALLS set, every AWS API call is appended there as a JSON line
(IAM action and resource names): the IAM test compares them with the template's grants.

This file runs inside the layout: it imports nothing from the tests or the repository.
"""

import importlib
import json
import os
import sys
import time
import traceback
import uuid


class LambdaContext:
    def __init__(self, timeout_ms: int) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"))
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "artifact"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _resources(params: dict) -> list[str]:
    if "IndexName" in params:  # IAM authorises a query of an index on the index's own ARN
        return [f"{params['TableName']}/index/{params['IndexName']}"]
    for key in ("TableName", "Name", "QueueUrl"):
        if key in params:
            return [params[key]]
    if "Names" in params:
        return list(params["Names"])
    if "RequestItems" in params:
        return list(params["RequestItems"])
    return []


def record_aws_calls(path: str) -> None:
    """Record each botocore API call (the layer's botocore) before it is sent."""
    import botocore.client

    send = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        model = client.meta.service_model
        call = {"action": f"{model.signing_name}:{operation_name}", "resources": _resources(api_params)}
        with open(path, "a", encoding="utf-8") as calls:
            calls.write(json.dumps(call) + "\n")
        return send(client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording


def main() -> int:
    task_dir, layer_dir, handler_path = sys.argv[1:4]
    sys.path[:0] = [task_dir, layer_dir]
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the function's stdout (logs and metrics) goes where stderr goes
    calls_path = os.environ.get("TEXTAPI_ARTIFACT_CALLS")
    if calls_path:
        record_aws_calls(calls_path)
    module_name, attribute = handler_path.rsplit(".", 1)
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except BaseException as exc:
        traceback.print_exc()
        protocol.write(json.dumps({"init_error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 1
    protocol.write(json.dumps({"ready": True, "init_ms": (time.perf_counter() - started) * 1000}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"response": handler(request["event"], LambdaContext(request.get("timeout_ms", 29_000)))}
        except BaseException as exc:  # the runtime would report it as a function error
            traceback.print_exc()
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.flush()
        protocol.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
