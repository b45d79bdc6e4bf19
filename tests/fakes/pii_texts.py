"""Texts full of personal data for the privacy tests, the fake Gemini's placeholder echo, and the search
for original values in whatever a test can read (request logs, log lines, stores).

Every value is drawn fresh from `secrets` for each sample, so a value found in a shared store (the local
Redis outlives tests) can only have come from the test that made it. Each is valid by the rules a real
one obeys (Luhn, mod-97, NANP and UK numbering, SSN ranges), in a format the detectors document.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import string
import types
import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fakes.gemini_server import Reply
from textapi_shared.privacy.redaction import PLACEHOLDER

_UPPER_BASE32 = string.ascii_uppercase + "234567"
_ALNUM = string.ascii_letters + string.digits


def _digits(count: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def _chars(alphabet: str, count: int) -> str:
    """`count` characters of `alphabet` with at least one upper, lower case letter and digit each (where
    the alphabet has them): what the token detectors call varied."""
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(count))
        kinds = (str.isupper, str.islower, str.isdigit)
        if all(any(kind(c) for c in value) for kind in kinds if any(kind(c) for c in alphabet)):
            return value


def _luhn(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def _card() -> str:
    """A Visa number, grouped 4-4-4-4."""
    number = _luhn("4" + _digits(14))
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _iban_de() -> str:
    bban = _digits(18)
    numeric = "".join(str(int(c, 36)) for c in bban + "DE00")
    compact = f"DE{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _jwt() -> str:
    def part(payload: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    claims = {"sub": _digits(9), "iat": 1_700_000_000 + secrets.randbelow(10**7)}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{_chars(_ALNUM + '-_', 43)}"


@dataclass(frozen=True)
class PiiSample:
    """One set of values, one of each structured kind, and the ticket text that holds them."""

    values: dict[str, str]  # a name for the value -> the value as written in the text
    types: dict[str, str]  # the same names -> the placeholder type it must be redacted as

    def text(self, topic: str = "") -> str:
        """A support ticket holding every value; `topic` makes texts of one sample differ."""
        v = self.values
        return (
            f"Support ticket {topic}: the customer {v['email']} says the card {v['card']} was charged "
            f"twice. Call back on {v['phone_intl']} or {v['phone_national']}; refund to {v['iban']}. "
            f"Logins came from {v['ipv4']} and {v['ipv6']}. SSN on file {v['ssn']}. The export link "
            f"{v['url_credentials']} and the reset link {v['url_token']} were pasted in the chat, and so "
            f"were aws_access_key_id={v['aws_key']} aws_secret_access_key={v['aws_secret']} and the "
            f"header Authorization: Bearer {v['bearer']} and the key {v['api_token']}. The customer is "
            "upset and wants the duplicate charge reversed this week."
        )

    def originals(self) -> dict[str, str]:
        """Every form of every value worth searching for: as written, and numbers as bare digits."""
        forms = dict(self.values)
        for name in ("card", "phone_intl", "phone_national", "ssn", "iban"):
            forms[f"{name} (compact)"] = re.sub(r"[^0-9A-Z]", "", self.values[name])
        forms["email (lower case)"] = self.values["email"].lower()
        return forms


# `metadata.pii_redacted` of a sample's text: what `pii_sample` puts in it, by type.
SAMPLE_COUNTS = {
    "EMAIL": 1,
    "CARD": 1,
    "PHONE": 2,
    "IBAN": 1,
    "IP": 2,
    "SSN": 1,
    "URL_SECRET": 2,
    "AWS_KEY": 1,
    "AWS_SECRET": 1,
    "TOKEN": 2,
}


def pii_sample() -> PiiSample:
    """Fresh values of every structured kind."""
    area = 100 + secrets.randbelow(565)  # 100-664: never 000, 666 or 9xx
    values = {
        "email": f"dana.{secrets.token_hex(4)}@example.com",
        "card": _card(),
        "phone_intl": f"+44 20 7946 {_digits(4)}",
        "phone_national": f"(415) 555-{_digits(4)}",
        "iban": _iban_de(),
        "ipv4": f"203.0.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}",
        "ipv6": f"2001:db8:{secrets.token_hex(2)}::{secrets.token_hex(2)}:{secrets.token_hex(2)}",
        "ssn": f"{area:03d}-{10 + secrets.randbelow(90):02d}-{1000 + secrets.randbelow(9000):04d}",
        "url_credentials": f"https://admin:Pw{secrets.token_hex(4)}!x@db.example.com/exports/q3",
        "url_token": f"https://app.example.com/reset?token={_chars(_ALNUM, 32)}",
        "aws_key": "AKIA" + _chars(_UPPER_BASE32, 16),
        "aws_secret": _chars(_ALNUM + "/+", 40),
        "bearer": _jwt(),
        "api_token": "sk_live_" + _chars(_ALNUM, 24),
    }
    types = {
        "email": "EMAIL",
        "card": "CARD",
        "phone_intl": "PHONE",
        "phone_national": "PHONE",
        "iban": "IBAN",
        "ipv4": "IP",
        "ipv6": "IP",
        "ssn": "SSN",
        "url_credentials": "URL_SECRET",
        "url_token": "URL_SECRET",
        "aws_key": "AWS_KEY",
        "aws_secret": "AWS_SECRET",
        "bearer": "TOKEN",
        "api_token": "TOKEN",
    }
    return PiiSample(values, types)


# -- the fake Gemini's side ----------------------------------------------------------------------------


def prompt_of(body: object) -> str:
    """The user turn of a recorded Gemini request (the task and the delimited text)."""
    contents = body.get("contents") if isinstance(body, dict) else None
    return "\n".join(
        part.get("text", "")
        for content in contents or []
        for part in content.get("parts", [])
        if isinstance(part, dict)
    )


def placeholders_in(body: object) -> list[str]:
    """The placeholders of a recorded request's prompt, in order of first appearance."""
    return list(dict.fromkeys(match.group() for match in PLACEHOLDER.finditer(prompt_of(body))))


def echo_placeholders(body: object) -> Reply:
    """A reply in the operation's format that refers to every placeholder the prompt holds, as a model
    following the placeholder instruction would: what the service must restore."""
    prompt = prompt_of(body)
    held = placeholders_in(body)
    named = ", ".join(held) or "no contact details"
    task = prompt.split("\n", 1)[0]
    if task.startswith("Task: Classify the overall sentiment"):
        return Reply(json={"sentiment": "negative", "confidence": 0.9, "explanation": f"Upset: {named}."})
    if task.startswith("Task: List the"):
        return Reply(json={"key_points": [f"The customer gave {named}.", "A charge was duplicated."]})
    if task.startswith("Task: Write"):
        return Reply(json={"questions": [f"Was {named} verified?", "When is the refund due?"]})
    if task.startswith("Task: Answer the question"):
        return Reply(text=f"The customer can be reached through {named}.")
    return Reply(text=f"A customer ({named}) reports a duplicate charge and wants it reversed.")


# -- searching ---------------------------------------------------------------------------------------------


def expanded(blob: bytes | str) -> str:
    """`blob` as text, with every zlib stream inside it (compressed cache values, idempotency records,
    behind a marker byte or a header) inflated and appended: a compressed copy is still a copy."""
    data = blob.encode() if isinstance(blob, str) else bytes(blob)
    parts = [data.decode("utf-8", "replace")]
    start = data.find(b"\x78")
    while start != -1:
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompressobj().decompress(data[start:]).decode("utf-8", "replace"))
        start = data.find(b"\x78", start + 1)
    return "\n".join(parts)


# What the walk of `stored_text` does not enter: code, and the clients and loops of libraries (the stores'
# own contents are read from the stores themselves).
_OPAQUE_MODULES = (
    "asyncio", "aws_lambda_powertools", "boto3", "botocore", "concurrent", "google", "httpcore", "httpx",
    "logging", "redis", "re", "s3transfer", "socket", "ssl", "threading", "urllib3",
)  # fmt: skip


def stored_text(roots: Iterable[object]) -> str:
    """Every string and byte string reachable from `roots` (containers, object attributes and slots),
    compressed bytes inflated: what an object graph holds, e.g. a function's in-memory stores."""
    found: list[str] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        value = stack.pop()
        if id(value) in seen or value is None or isinstance(value, bool | int | float):
            continue
        seen.add(id(value))
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, bytes | bytearray | memoryview):
            found.append(expanded(bytes(value)))
        elif isinstance(value, dict):
            stack += [*value.keys(), *value.values()]
        elif isinstance(value, list | tuple | set | frozenset | deque):
            stack += list(value)
        elif not _opaque(value):
            stack += list(getattr(value, "__dict__", {}).values())
            for cls in type(value).__mro__:
                for slot in getattr(cls, "__slots__", ()):
                    if hasattr(value, slot) and not slot.startswith("__"):
                        stack.append(getattr(value, slot))
    return "\n".join(found)


def _opaque(value: object) -> bool:
    if isinstance(value, type | types.ModuleType | types.FunctionType | types.MethodType | types.CodeType):
        return True
    if callable(value) and not hasattr(value, "__dict__") and not hasattr(type(value), "__slots__"):
        return True
    module = (type(value).__module__ or "").split(".", 1)[0]
    return module in _OPAQUE_MODULES or module == "builtins"


def leaks(haystack: str, originals: dict[str, str]) -> list[str]:
    """The names of the values found in `haystack`."""
    return [name for name, value in originals.items() if value in haystack]
