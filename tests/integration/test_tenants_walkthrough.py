"""docs/tenants.md's walkthrough works as printed: its commands, run in order in one bash session against
the gateway `make run` starts, print what the page shows.

The page's `shell` blocks under "Walkthrough" are the commands; a `text` block right after one is what
they print (stdout and stderr), an excerpt: its lines appear in that order, `...` stands for anything
(within a line: any characters; alone: any lines). The first block's `make run` is run as the Makefile
runs it, on a free port instead of 8000, and the commands reach it there (`http://127.0.0.1:8000` in
them replaced, TEXTAPI_URL for the CLI and the make targets): the test runs beside a developer's own
`make run` and touches nothing of it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from typing import NamedTuple

import pytest

from fakes.gateway_process import ROOT, GatewayProcess
from fakes.services import free_port

pytestmark = pytest.mark.slow  # a gateway process, make and curl

DOC = ROOT / "docs" / "tenants.md"
SECTION = "## Walkthrough under `make run`"
LOCAL = "http://127.0.0.1:8000"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


class Step(NamedTuple):
    commands: str
    expected: list[str]  # the excerpt's lines; empty when the page shows no output


def walkthrough_steps(markdown: str) -> list[Step]:
    """The section's shell blocks, each with the text block that follows it (if one does)."""
    start = markdown.index(SECTION)
    end = markdown.find("\n## ", start + len(SECTION))
    section = markdown[start : end if end != -1 else None]
    steps: list[Step] = []
    for match in _FENCE.finditer(section):
        language, body = match.groups()
        if language == "shell":
            steps.append(Step(body, []))
        elif language == "text" and steps and not steps[-1].expected:
            steps[-1] = Step(steps[-1].commands, [line.strip() for line in body.splitlines() if line.strip()])
        else:
            raise AssertionError(f"a ```{language} block where the walkthrough has commands or their output")
    return steps


def _line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")))


def excerpt_mismatch(expected: list[str], output: str) -> str | None:
    """None when the excerpt's lines appear in `output` in order; else the first line that does not."""
    lines = [line.strip() for line in output.splitlines()]
    position = 0
    for wanted in expected:
        if wanted == "...":
            continue
        pattern = _line_pattern(wanted)
        while position < len(lines) and not pattern.fullmatch(lines[position]):
            position += 1
        if position == len(lines):
            return wanted
        position += 1
    return None


def test_excerpt_matching_can_fail():
    output = 'HTTP/1.1 429 Too Many Requests\nretry-after: 70\n{"error_code":"BUDGET_EXCEEDED"}'
    assert excerpt_mismatch(["HTTP/1.1 429 ...", "...", '{"error_code":"BUDGET_...'], output) is None
    assert excerpt_mismatch(["HTTP/1.1 200 OK"], output) == "HTTP/1.1 200 OK"
    assert (
        excerpt_mismatch(['{"error_code":"BUDGET_EXCEEDED"}', "retry-after: ..."], output)
        == "retry-after: ..."
    )


def _gateway_from_make_run(line: str, port: int) -> GatewayProcess:
    """`VAR=value ... make run` from the page, started as the Makefile's recipe starts it."""
    words = shlex.split(line)
    assignments = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    assert words[len(assignments) :] == ["make", "run"], f"the walkthrough must start with make run: {line}"
    recipe = subprocess.run(
        ["make", "-s", "-n", "--no-print-directory", "-o", ".venv/.installed", "run"],
        cwd=ROOT,
        env=_make_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "--port 8000" in recipe, recipe
    command = recipe.replace("--port 8000", f"--port {port}")
    return GatewayProcess({"HOME": os.environ.get("HOME", "/tmp"), **assignments}, command, port=port)


def _make_env(**extra: str) -> dict[str, str]:
    # As a user's shell runs make, not as a sub-make of `make test`; nothing of the developer's AWS or
    # Gemini settings.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM")
    return {name: os.environ[name] for name in keep if name in os.environ} | extra


def test_walkthrough_works_as_printed():
    for tool in ("make", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool}"
    steps = walkthrough_steps(DOC.read_text())
    assert len(steps) >= 8, "the walkthrough lost its steps"
    first, *rest = steps
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    marker = "@@walkthrough-step@@"
    script = ["set -euo pipefail", "exec 2>&1"]
    for step in rest:
        assert "8000" not in step.commands.replace(LOCAL, ""), "a command reaches port 8000 another way"
        script += [f"echo {marker}", step.commands.replace(LOCAL, url)]
    with _gateway_from_make_run(first.commands.strip(), port) as gateway:
        run = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=ROOT,
            env=_make_env(TEXTAPI_URL=url),  # the default of keys_cli.py, in make targets too
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs = run.stdout.split(f"{marker}\n")[1:]
        assert run.returncode == 0, (
            f"step {len(outputs)} failed:\n{outputs[-1] if outputs else run.stdout}\n{gateway.log()}"
        )
    assert len(outputs) == len(rest)
    for number, (step, output) in enumerate(zip(rest, outputs, strict=True), start=2):
        missing = excerpt_mismatch(step.expected, output)
        assert missing is None, (
            f"step {number} ({step.commands.splitlines()[0]}) did not print {missing!r} where the page shows"
            f" it;\nthe page:\n" + "\n".join(step.expected) + f"\nthe output:\n{output}"
        )
