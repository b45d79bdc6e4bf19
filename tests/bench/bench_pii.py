"""`make bench`: what PII redaction costs a request (the structured detectors and the placeholders), on
prose with some PII of about 1,000 characters (the hot-path bench's text) and 10,000 (the API's
maximum), and on adversarial inputs of 10,000 characters built to make pattern matching slow (long
runs of digits, dots, "@", "[", repeated near-matches). Medians of repeated calls in this process.

Targets: 10,000 characters of prose in 5 ms or less; every adversarial input in 20 ms or less; and
linear time: the cost per character of each adversarial input at 80,000 characters is at most 3
times its cost at 10,000 (1 is linear; quadratic matching would be 8). Each round times the two sizes
in turn, and the ratio is the median of the rounds', so both sizes meet the same load on a shared
machine (bursts of other work on it move single timings by up to 2 times).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "functions/public_api", "tests", "tests/bench"):
    sys.path.insert(0, str(ROOT / folder))

from bench_hot_path import TEXT  # noqa: E402
from targets import Target, finish, load_average  # noqa: E402

PII_SENTENCES = [
    "Questions go to jane.doe@example.com or +44 20 7946 0958.",
    "The refund goes to DE89 3704 0044 0532 0130 00, not to card 4111 1111 1111 1111.",
    "The login came from 203.0.113.7 and from 2001:db8::8a2e:370:7334.",
    "Payroll has SSN 123-45-6789 for her; call (415) 555-2671 to confirm.",
    "Someone pasted postgres://app:Winter2024@db.example.net/orders in the channel.",
    "Leaked: AKIAIOSFODNN7EXAMPLE, aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.",
    "Use Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0 for now.",
    "Her mobile is 07700 900123 and her office 030 12345678.",
    "The OpenAI key sk-proj-abc123DEF456ghi789JKL012mno was rotated.",
    "Wire it to GB82 WEST 1234 5698 7654 32 by Friday.",
]
ADVERSARIAL = {
    "digits": "1",
    "digits and spaces": "1 ",
    "digits and dots": "1.",
    "digits and dashes": "1-",
    "zeros": "0",
    "pairs with a trunk 0": "01 ",
    "@": "@",
    "a@": "a@",
    "long local parts": "a" * 70 + "@",
    "dotted local part": "a.",
    "e-mail chain": "a@b.",
    "[": "[",
    "placeholders": "[EMAIL_1]",
    ":": ":",
    "hex and colons": "a:",
    "digits and colons": "1:2:",
    "scheme://": "http://",
    "one long URL": "http://a" + "b" * 50_000,
    "+1 ": "+1 ",
    "phone numbers": "415-555-2671 ",
    "chained phone numbers": "415-555-2671-",
    "card groups": "4111 ",
    "AKIA": "AKIA",
    "sk-": "sk-",
    "Bearer": "Bearer ",
    "eyJ.": "eyJ.",
    "PEM headers": "-----BEGIN PRIVATE KEY-----",
    "token=": "token=",
    "password: ": "password: ",
    "secret key words": "aws_secret_access_key ",
    "IBAN groups": "DE89 ",
    "caps and digits": "AB12 ",
    "dotted quads": "1.1.1.1.",
    "base64": "Ab1/",
    "UUIDs": "123e4567-e89b-12d3-a456-426614174000 ",
    "versions": "version 1.2.3.4 ",
    "(": "(",
    "(415) ": "(415) ",
}


def prose(size: int) -> str:
    """Prose of about `size` characters: the hot-path text, each paragraph with one PII sentence."""
    paragraphs, index = [], 0
    while sum(len(p) + 2 for p in paragraphs) < size:
        sentence = PII_SENTENCES[index % len(PII_SENTENCES)]
        paragraphs.append(TEXT[: TEXT.rindex(" ", 0, 960 - len(sentence))] + " " + sentence)
        index += 1
    text = "\n\n".join(paragraphs)
    return text[: text.rindex(".", 0, size) + 1]


def timings_ms(function, argument, repeat: int) -> list[float]:
    taken = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(argument)
        taken.append((time.perf_counter() - started) * 1000)
    return taken


def median_ms(function, argument, repeat: int) -> float:
    return statistics.median(timings_ms(function, argument, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="calls per prose text (median reported)")
    args = parser.parse_args()
    started = time.perf_counter()
    from textapi_shared.privacy.redaction import redact, restore

    redact("warm up: jane@example.com")  # the first call imports and compiles the detectors
    first_ms = (time.perf_counter() - started) * 1000
    lines = [f"Python {sys.version.split()[0]}, load average {load_average()} (1, 5, 15 min)"]
    lines.append(f"first redaction in a fresh process (imports, compiles the patterns): {first_ms:.1f} ms")
    lines.append(f"redaction of prose with PII, median of {args.repeat} calls:")
    prose_ms = {}
    for size in (1_000, 10_000):
        text = prose(size)
        redaction = redact(text)
        found = ", ".join(f"{kind} {count}" for kind, count in redaction.counts.items())
        prose_ms[size] = median_ms(redact, text, args.repeat)
        lines.append(f"  {len(text):>6,} characters  {prose_ms[size]:6.2f} ms   ({found})")
    answer = redaction.text  # an answer quoting every placeholder, restored
    restore_ms = median_ms(lambda text: restore(text, redaction), answer, args.repeat)
    lines.append(f"  restore of a {len(answer):,}-character answer: {restore_ms:.2f} ms")

    size, scale = 10_000, 8
    timings = []
    for name, unit in ADVERSARIAL.items():
        small = (unit * (size // len(unit) + 1))[:size]
        large = (unit * (scale * size // len(unit) + 1))[: scale * size]
        rounds = [(timings_ms(redact, small, 1)[0], timings_ms(redact, large, 1)[0]) for _ in range(15)]
        small_ms = statistics.median(small for small, _ in rounds)
        per_character = statistics.median(large / small / scale for small, large in rounds)
        timings.append((small_ms, per_character, name))
    timings.sort(reverse=True)
    lines.append(f"adversarial inputs ({len(ADVERSARIAL)}), {size:,} characters, median of 15; slowest five:")
    lines += [
        f"  {name:<24} {ms:6.2f} ms   cost per character at {scale * size:,}: x{ratio:.2f}"
        for ms, ratio, name in timings[:5]
    ]
    steepest, worst_ratio = max(((name, ratio) for _, ratio, name in timings), key=lambda item: item[1])
    lines.append(
        f"  highest cost per character at {scale * size:,} / at {size:,}: {steepest} x{worst_ratio:.2f}"
    )
    finish(
        lines,
        [
            Target("redaction of 10,000 characters of prose", prose_ms[10_000], 5.0, " ms"),
            Target("slowest adversarial input, 10,000 characters", timings[0][0], 20.0, " ms"),
            Target(
                "cost per character of an adversarial input, 80,000 / 10,000 characters", worst_ratio, 3.0
            ),
        ],
    )


if __name__ == "__main__":
    main()
