"""A Lambda context object with the attributes and method the runtime provides."""

from __future__ import annotations

import time
import uuid


class FakeLambdaContext:
    def __init__(
        self,
        *,
        function_name: str = "textapi-dev-PublicApiFunction",
        timeout_ms: int = 29_000,
        memory_limit_in_mb: int = 1024,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/26/[$LATEST]0123456789abcdef"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
