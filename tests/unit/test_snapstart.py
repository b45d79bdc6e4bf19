"""SnapStart restores many execution environments from one snapshot of init: nothing init makes may be
unique per environment. A fork after init models such a restore: the child starts from a copy of the
parent's memory (Python re-seeds `random` in a forked child, which a snapshot restore does not, so the
child puts the parent's state back first); then the child calls the hooks registered with
`snapshot_restore_py`, as the runtime does after a restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each case forks restored copies of a fresh interpreter

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = os.pathsep.join(
    str(ROOT / p) for p in ("layers/shared", "functions/public_api", "functions/internal_api")
)
ENTRY_POINTS = ["public_api.main", "internal_api.main"]

RESTORE_TWICE = """
import json, os, random, sys
from types import SimpleNamespace
import snapshot_restore_py
import {module} as entry

registry = entry.app.state.services.resilience.breakers
snapshot_random_state = random.getstate()

def restore(run_hooks):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        random.setstate(snapshot_random_state)
        if run_hooks:  # what the runtime does after restoring a snapshot
            for hook, args, kwargs in snapshot_restore_py.get_after_restore():
                hook(*args, **kwargs)
        from textapi_shared.resilience.retry import wait_for_strategy
        from textapi_shared.resilience.strategies import STRATEGIES
        wait = wait_for_strategy(STRATEGIES["balanced"])
        state = SimpleNamespace(attempt_number=1, outcome=None)
        report = {{"owner": registry.owner, "jitter": [wait(state) for _ in range(4)]}}
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    report = json.loads(os.read(read_end, 65536))
    os.waitpid(pid, 0)
    return report

restored, unhooked = [restore(True), restore(True)], [restore(False), restore(False)]
print(json.dumps({{"restored": restored, "unhooked": unhooked}}))
"""

# The event loop Mangum makes at init owns a socketpair (AF_UNIX, in-process): snapshots keep it. Any
# network socket, connection or name lookup at init would be shared by, or broken in, every restore.
NO_IO_AT_INIT = """
import json, socket, sys
events = []

def audit(event, args):
    if event == "socket.__new__" and args[1] == socket.AF_UNIX:
        return
    if event.startswith(("socket.", "_thread.start")):
        events.append(event)

sys.addaudithook(audit)
import {module}
print(json.dumps(sorted(set(events))))
"""

# The heaviest configuration: every backend that could connect, and keys from SSM.
WORST_CASE_ENV = {
    "STAGE": "dev",
    "CACHE_BACKEND": "redis",
    "REDIS_URL": "redis://127.0.0.1:6379",
    "AI_PROVIDER": "gemini",
    "GEMINI_API_KEY_SSM_PARAMETER": "/textapi/test/gemini",
    "API_KEYS_SSM_PARAMETER": "/textapi/test/api-keys",
    "INTERNAL_API_KEYS_SSM_PARAMETER": "/textapi/test/internal-api-keys",
    "RESILIENCE_PRESET_SSM_PARAMETER": "/textapi/test/resilience/preset",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}


def _run(script: str, **env: str):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": CODE_PATH, **env}
    command = [sys.executable, "-c", script]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_restored_environments_get_their_own_probe_owner_and_jitter(module):
    report = _run(RESTORE_TWICE.format(module=module), STAGE="dev", CACHE_BACKEND="redis")
    first, second = report["restored"]
    assert first["owner"] != second["owner"]
    assert first["jitter"] != second["jitter"]
    # Without the runtime's after-restore hooks both copies would draw the same jitter: the hazard the
    # hook removes (and the proof that a fork really copies the snapshot's state).
    unhooked_first, unhooked_second = report["unhooked"]
    assert unhooked_first["jitter"] == unhooked_second["jitter"]


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_init_opens_no_socket_and_starts_no_thread(module):
    assert _run(NO_IO_AT_INIT.format(module=module), **WORST_CASE_ENV) == []
