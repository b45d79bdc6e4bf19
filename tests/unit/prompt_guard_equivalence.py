"""Whether a change to the prompt guard's rules files keeps every verdict: how a change that updates
`RULES_FILES_SHA256` without a new `RULES_VERSION` shows it (see tests/unit/test_prompt_guard.py).

    python tests/unit/prompt_guard_equivalence.py <commit> [--random N]

compares the guard of the working tree with the guard at `<commit>`:

- `inspect_text` on every text of the working tree's corpora (tests/data/prompt_guard), on ten encoded
  or obfuscated variants of each (base64, hex, rot13, reversed, spaced out, upper case, hyphen-joined,
  binary, leetspeak, one word a line), and on N random texts (seeded) built of trigger words, symbols
  and encodings;
- every module-level pattern whose source changed, on 200,000 random strings of its own characters:
  the same matches at the same places.

Prints the counts (and the first few differing texts), then exits 1 if anything differed.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import importlib
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from re import _constants as c  # the parser's own names (private, but in place since 3.11)
from re import _parser

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers/shared"), str(ROOT / "tests")]

from unit.prompt_guard_data import entries, names  # noqa: E402

from textapi_shared.security import prompt_guard_rules, prompt_guard_text  # noqa: E402

FOLDER = "layers/shared/textapi_shared/security"
PIECES = [
    *"abcdefghijklmnopqrstuvwxyz '\n\".,:;<>[]{}|#*=_-/\\0123456789",
    *("ignore ", "previous ", "instructions", "you are", "system", "prompt", "role", "<|im_start|>"),
    *("[INST]", "the ", "act as ", "let's play", "from now on", "reveal ", "developer", "sys"),
    *("__system__", '"role"', ".- ", "-.. ", "01101001 ", "\\u0069", "%69", "don't ", "what's "),
    *("you're ", "role-play ", "admin override", "i am ", "this is "),
]


def guard_at(commit: str, into: Path):
    """The rules modules as they were at `commit`, importable as the package `guard_then`."""
    package = into / "guard_then"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("prompt_guard_rules", "prompt_guard_text"):
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:{FOLDER}/{name}.py"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        source = source.replace("textapi_shared.security.prompt_guard_rules", "guard_then.prompt_guard_rules")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(into))
    return importlib.import_module("guard_then.prompt_guard_rules"), importlib.import_module(
        "guard_then.prompt_guard_text"
    )


def corpus_texts() -> list[str]:
    return list(dict.fromkeys(entry.text for name in names() for entry in entries(name)))


def variants(text: str) -> list[str]:
    return [
        base64.b64encode(text.encode()).decode(),
        text.encode().hex(),
        codecs.encode(text, "rot13"),
        text[::-1],
        " ".join(text),
        text.upper(),
        "-".join(text.split()),
        " ".join(format(byte, "08b") for byte in text.encode()[:60]),
        "prefix " + text.replace("e", "3").replace("o", "0"),
        "\n".join(text.split(" ")),
    ]


_CATEGORY_SAMPLES = " \n\taZ_09.-é"


def alphabet(pattern: re.Pattern) -> list[str]:
    """The characters `pattern` names (its literals, the ends of its ranges, samples of its categories),
    so random strings of them give it something to match."""
    chars = {" ", "x"}

    def walk(items) -> None:
        for op, value in items:
            if op is c.LITERAL or op is c.NOT_LITERAL:
                chars.add(chr(value))
            elif op is c.IN:
                walk(value)
            elif op is c.RANGE:
                low, high = value
                chars.update({chr(low), chr(high), chr((low + high) // 2)})
            elif op is c.CATEGORY:
                chars.update(_CATEGORY_SAMPLES)
            elif op is c.BRANCH:
                for branch in value[1]:
                    walk(branch)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                walk(value[2])
            elif op is c.SUBPATTERN:
                walk(value[3])
            elif op in (c.ASSERT, c.ASSERT_NOT):
                walk(value[1])
            elif op is c.ATOMIC_GROUP:
                walk(value)

    walk(_parser.parse(pattern.pattern, pattern.flags))
    return sorted(chars)


def _sample(rng: random.Random, chars: list[str]) -> str:
    """A random string mostly of a few of `chars` (so long runs of one class occur), sometimes others."""
    few = rng.sample(chars, min(len(chars), rng.randint(1, 3)))
    return "".join(
        rng.choice(chars) if rng.random() < 0.05 else rng.choice(few) for _ in range(rng.randint(1, 80))
    )


def changed_patterns(*modules_then_now: tuple[object, object]) -> list[tuple[str, re.Pattern, re.Pattern]]:
    changed = []
    for then, now in modules_then_now:
        for name, pattern in vars(now).items():
            before = getattr(then, name, None)
            if (
                isinstance(pattern, re.Pattern)
                and isinstance(before, re.Pattern)
                and before.pattern != pattern.pattern
            ):
                changed.append((name, before, pattern))
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit whose guard the working tree's is compared with")
    parser.add_argument("--random", type=int, default=100_000, help="random texts to compare")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        rules_then, text_then = guard_at(args.commit, Path(folder))
        texts = corpus_texts()
        varied = [variant for text in texts for variant in variants(text)]
        randoms = [
            "".join(rng.choice(PIECES) for _ in range(rng.randint(5, 120))) for _ in range(args.random)
        ]
        differing = flagged = 0
        for text in texts + varied + randoms:
            then, now = text_then.inspect_text(text), prompt_guard_text.inspect_text(text)
            flagged += bool(now)
            if then != now:
                differing += 1
                if differing <= 5:
                    print(f"different: {text[:200]!r}: {sorted(then)} then, {sorted(now)} now")
        print(
            f"{len(texts)} corpus texts, {len(varied)} variants, {len(randoms)} random texts: "
            f"{flagged} flagged, {differing} verdicts differ"
        )
        mismatched = 0
        for name, then, now in changed_patterns(
            (rules_then, prompt_guard_rules), (text_then, prompt_guard_text)
        ):
            chars = sorted(set(alphabet(then)) | set(alphabet(now)))
            bad = matching = 0
            for _ in range(200_000):
                sample = _sample(rng, chars)
                spans = [m.span() for m in now.finditer(sample)]
                matching += bool(spans)
                bad += [m.span() for m in then.finditer(sample)] != spans
            mismatched += bad
            print(f"{name}: 200,000 random strings of its characters, {matching} with a match, {bad} differ")
    if differing or mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
