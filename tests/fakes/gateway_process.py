"""The local gateway of `make run` as a process on a free loopback port, for tests that speak HTTP to it
(the operator CLI, the docs' walkthroughs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from fakes.services import free_port

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = os.pathsep.join(
    str(ROOT / p) for p in ("layers/shared", "functions/public_api", "functions/internal_api")
)


def gateway_command(port: int) -> list[str]:
    """What `make run` runs, on `port` (tests/integration/test_tenants_walkthrough.py runs the Makefile's own
    recipe)."""
    return [
        sys.executable,
        str(ROOT / "infra/local/local_gateway.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


class GatewayProcess:
    """One gateway process with its own environment. `command` is an argv list or a shell line (run by
    bash); its own process group, so stopping it stops whatever the shell started."""

    def __init__(self, env: dict[str, str], command: list[str] | str | None = None, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": CODE_PATH, **env}
        self._command = command if command is not None else gateway_command(self.port)
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the process writes it until __exit__ closes it

    def start(self, timeout_s: float = 60.0) -> None:
        argv = ["bash", "-c", self._command] if isinstance(self._command, str) else self._command
        self._process = subprocess.Popen(
            argv, env=self._env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self._process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the gateway did not answer on {self.url} within {timeout_s} s:\n{self.log()}")

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self._process = None

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def __enter__(self) -> GatewayProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
