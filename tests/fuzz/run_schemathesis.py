"""`make fuzz`: schemathesis over both OpenAPI documents, against the local gateway.

The gateway (`infra/local/local_gateway.py`, both apps routed as API Gateway routes them) runs as `make
run` runs it, in a subprocess on a free loopback port, with a public and an admin key. Each document gets
every check but positive-data acceptance (see below): server errors, status-code, content-type, header and
schema conformance, negative data rejection (413 among its statuses: `schemathesis.toml`), ignored
auth, ...; from a fixed seed, within FUZZ_SECONDS (default 60) per API, so how far each run gets
depends on the machine's speed. Exit status: 0 only when both runs find nothing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = os.pathsep.join(
    str(ROOT / p) for p in ("layers/shared", "functions/public_api", "functions/internal_api")
)
PUBLIC_KEY = "fuzz-public-key-0123456789"
ADMIN_KEY = "fuzz-admin-key-0123456789"
SEED = 20261128
CONFIG = Path(__file__).with_name("schemathesis.toml")  # 413 counts as rejecting invalid data
APIS = (("public", "/openapi.json", PUBLIC_KEY), ("internal", "/internal/openapi.json", ADMIN_KEY))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the gateway exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the gateway did not answer {url} within {timeout_s} s")


def main() -> int:
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": CODE_PATH,
        "STAGE": "dev",
        "API_KEY": PUBLIC_KEY,
        "INTERNAL_API_KEYS": ADMIN_KEY,
        "AI_PROVIDER": "local",
        "CACHE_BACKEND": "memory",
        # The fuzzer's volume is not what the limits are for; 429 is still documented and tested.
        "RATE_LIMIT_PER_MINUTE": "100000",
        "LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "infra/local/local_gateway.py"), "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,  # the apps' EMF metric lines; errors still reach stderr
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    failed = []
    try:
        wait_until_up(f"{base}/openapi.json", server)
        for name, document, key in APIS:
            print(f"== schemathesis: {name} API ({document}), seed {SEED}, {seconds} s", flush=True)
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file",
                str(CONFIG),
                "run",
                f"{base}{document}",
                "--url",
                base,
                "--checks",
                "all",
                # Schema-valid is not always valid: rules JSON Schema cannot state (10 *visible*
                # characters, options per operation, `{"pattern": "*"}` needing `all: true`) refuse some
                # schema-valid bodies with a 422 on purpose. Everything else is checked.
                # A DELETE here revokes a key or cancels a job: the record stays readable (its status
                # says so), as SPEC §11 and the jobs API define, so "deleted but still there" is meant.
                "--exclude-checks",
                "positive_data_acceptance,use_after_free",
                "--seed",
                str(SEED),
                "--max-time",
                str(seconds),
                "--workers",
                "1",
                "--header",
                f"Authorization: Bearer {key}",
                "--request-timeout",
                "30",
            ]
            if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
                failed.append(name)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failed:
        print(f"schemathesis found failures in: {', '.join(failed)}")
        return 1
    print("schemathesis: no failures in either API")
    return 0


if __name__ == "__main__":
    sys.exit(main())
