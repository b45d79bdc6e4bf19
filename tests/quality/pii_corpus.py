"""The PII corpus: prose with embedded PII of every structured kind (each value's exact span and type
recorded) and prose with look-alikes that are not PII, generated from seeded templates.

    python tests/quality/pii_corpus.py        # rewrites tests/data/pii/{tuning,heldout,fresh}.jsonl

Three sets, each drawn with its own seed: *tuning*, the templates the detectors were developed
against; *held-out* (tests/quality/pii_corpus_heldout.py), other templates, value formats and
look-alike kinds written before the detectors were tuned, measured once before and once after three
rules were changed on its misses; and *fresh* (tests/quality/pii_corpus_fresh.py), written after
that change in other text shapes (logs, CSV, YAML, chat, markdown), measured as it stood and never
used to tune. `make pii-quality` measures all three.

Counted as **not** PII (the look-alike kinds): order and invoice numbers, versions (including
dotted quads after "version", "release", "build"), dates and timestamps, ISBNs, parcel tracking
codes, hashes and UUIDs, product codes and EAN barcodes, numeric ranges and grouped figures,
amounts and coordinates, and URLs without credentials or secret parameters.

A record: {"id", "kind": "pii"|"lookalike", "category", "text", "spans": [{"type", "start", "end"}]}.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pii_values as v  # noqa: E402

DATA = ROOT / "tests" / "data" / "pii"
TUNING_SEED = 20240115
HELDOUT_SEED = 97_131_313
FRESH_SEED = 5_550_123

Generator = Callable[[random.Random], str]

# Slot name -> (generator, PII type, or None for a look-alike).
SLOTS: dict[str, tuple[Generator, str | None]] = {
    "EMAIL": (v.email, "EMAIL"),
    "PHONE": (v.phone, "PHONE"),
    "PHONE_US": (v.phone_nanp, "PHONE"),
    "PHONE_UK": (v.phone_uk, "PHONE"),
    "PHONE_DE": (v.phone_de, "PHONE"),
    "PHONE_FR": (v.phone_fr, "PHONE"),
    "PHONE_INTL": (v.phone_international, "PHONE"),
    "PHONE10": (lambda rng: v.phone_nanp(rng, "e164")[2:], "PHONE"),
    "CARD": (v.card, "CARD"),
    "IBAN": (v.iban, "IBAN"),
    "IP": (v.ip, "IP"),
    "IPV4": (v.ipv4, "IP"),
    "IPV6": (v.ipv6, "IP"),
    "SSN": (v.ssn, "SSN"),
    "SSN9": (v.ssn_digits, "SSN"),
    "URL": (v.url_secret, "URL_SECRET"),
    "AWS_KEY": (v.aws_key, "AWS_KEY"),
    "AWS_SECRET": (v.aws_secret, "AWS_SECRET"),
    "TOKEN": (v.prefixed_token, "TOKEN"),
    "BEARER_TOKEN": (v.bearer_token, "TOKEN"),
    "JWT": (v.jwt, "TOKEN"),
    "SECRET": (v.api_secret, "TOKEN"),
    "PASSWORD": (v.password, "TOKEN"),
    "x:order": (v.order_number, None),
    "x:version": (v.version, None),
    "x:date": (v.date, None),
    "x:timestamp": (v.timestamp, None),
    "x:isbn": (v.isbn, None),
    "x:tracking": (v.tracking, None),
    "x:invoice": (v.invoice, None),
    "x:hex": (v.hex_id, None),
    "x:sku": (v.sku, None),
    "x:range": (v.numeric_range, None),
    "x:money": (v.money, None),
    "x:version_ip": (v.version_ip, None),
    "x:url": (v.plain_url, None),
    "x:first": (lambda rng: rng.choice(v.FIRST).capitalize(), None),
    "x:int": (lambda rng: str(rng.randrange(2, 500)), None),
    "x:year": (lambda rng: str(rng.randrange(1995, 2031)), None),
}
_SLOT = re.compile(r"\{([A-Z_0-9]+|x:[a-z_]+)\}")


@dataclass
class TemplateSet:
    """Frames per category: `pii` keyed by the PII type they are about (`MIXED` for several), and
    `lookalike` keyed by look-alike kind; how many texts to draw from each."""

    pii: dict[str, list[str]]
    lookalike: dict[str, list[str]]
    per_type: int
    mixed: int
    per_lookalike: int
    slots: dict[str, tuple[Generator, str | None]] = field(default_factory=dict)


def fill(frame: str, rng: random.Random, slots: dict[str, tuple[Generator, str | None]]) -> tuple[str, list]:
    """The frame with each slot replaced by a drawn value, and the spans of the PII values."""
    parts, spans, position, length = [], [], 0, 0
    for match in _SLOT.finditer(frame):
        literal = frame[position : match.start()]
        parts.append(literal)
        length += len(literal)
        generator, kind = slots[match.group(1)]
        value = generator(rng)
        if kind is not None:
            spans.append({"type": kind, "start": length, "end": length + len(value)})
        parts.append(value)
        length += len(value)
        position = match.end()
    parts.append(frame[position:])
    return "".join(parts), spans


def generate(templates: TemplateSet, seed: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    slots = {**SLOTS, **templates.slots}
    records = []

    def add(kind: str, category: str, frame: str) -> None:
        text, spans = fill(frame, rng, slots)
        records.append(
            {
                "id": f"{prefix}-{len(records) + 1:04d}",
                "kind": kind,
                "category": category,
                "text": text,
                "spans": spans,
            }
        )

    for pii_type, frames in templates.pii.items():
        count = templates.mixed if pii_type == "MIXED" else templates.per_type
        for _ in range(count):
            add("pii", pii_type.lower(), rng.choice(frames))
    for lookalike, frames in templates.lookalike.items():
        for _ in range(templates.per_lookalike):
            add("lookalike", lookalike, rng.choice(frames))
    return records


TUNING = TemplateSet(
    pii={
        "EMAIL": [
            "Please send the signed contract to {EMAIL} before Friday.",
            "You can reach our support lead at {EMAIL} or her deputy at {EMAIL}.",
            "From: {EMAIL}\nSubject: quarterly numbers\nHi team, the report is attached.",
            "Contact: <{EMAIL}>; for billing questions use ({EMAIL}).",
            "He wrote back from {EMAIL}, which is not the address we had on file.",
            'The form field "email" held "{EMAIL}" when it failed validation.',
            "mailto:{EMAIL} is the link on the careers page.",
        ],
        "PHONE": [
            "Call me on {PHONE_US} if the delivery is late.",
            "Our London office: {PHONE_UK}. Berlin: {PHONE_DE}.",
            "Le numéro du cabinet est le {PHONE_FR}, ouvert du lundi au vendredi.",
            "For urgent issues ring {PHONE_INTL} (24 hours).",
            "Phone: {PHONE}\nFax: {PHONE}",
            "She left a voicemail asking us to call back at {PHONE_US} after 6 pm.",
            "Mobile {PHONE_UK}, landline {PHONE}.",
            "Please call 1-800-FLOWERS? No: call {PHONE10} instead.",
            "His cell is {PHONE10}, texts only.",
        ],
        "CARD": [
            "The customer paid with card {CARD}, expiry 04/27.",
            "Please refund the charge on {CARD}; the order was cancelled.",
            "Card number: {CARD}\nName on card: as above",
            "I typed {CARD} into the checkout and it was declined twice.",
            "Both cards ({CARD} and {CARD}) were flagged by the fraud team.",
        ],
        "IBAN": [
            "Please wire the deposit to IBAN {IBAN} by the end of the month.",
            "Bank details: {IBAN}, reference INV-2024-0042.",
            "Our supplier changed accounts from {IBAN} to {IBAN} last week.",
            "IBAN: {IBAN}\nBIC: DEUTDEFF",
            "The refund went to {IBAN}, which is the account on the invoice.",
        ],
        "IP": [
            "The login came from {IPV4}, which is not one of our offices.",
            "Block {IP} at the firewall and check the logs for {IP}.",
            "The server listens on {IPV6} and on {IPV4}.",
            "Failed SSH attempts from {IPV4} (42 of them) since midnight.",
            "Her laptop had the address {IPV6} on the guest network.",
            "Whitelist the subnet {IPV4} for the VPN.",
        ],
        "SSN": [
            "The applicant's SSN is {SSN}; please verify it with the employer.",
            "Social security number: {SSN}",
            "We received two forms with the same number, {SSN}, which cannot be right.",
            "SSN {SSN9} was entered without dashes.",
            "Tax ID (SSN): {SSN}, filing status single.",
        ],
        "URL_SECRET": [
            "The dashboard link is {URL} if you need it.",
            "Connect with {URL} from the staging box.",
            "Someone pasted {URL} into the public channel.",
            "Download it here: {URL}",
            "The webhook ({URL}) fires on every deploy.",
        ],
        "AWS_KEY": [
            "The leaked access key id was {AWS_KEY}; rotate it now.",
            "aws_access_key_id = {AWS_KEY}",
            "I found {AWS_KEY} hard-coded in the deploy script.",
            "Keys {AWS_KEY} and {AWS_KEY} belong to the CI user.",
        ],
        "AWS_SECRET": [
            "aws_access_key_id = {AWS_KEY}\naws_secret_access_key = {AWS_SECRET}",
            "The secret access key is {AWS_SECRET}, do not share it.",
            "AWS_SECRET_ACCESS_KEY={AWS_SECRET} was in the .env file.",
            "Credentials: {AWS_KEY} / {AWS_SECRET}",
        ],
        "TOKEN": [
            "Authorization: Bearer {BEARER_TOKEN}",
            "The OpenAI key {TOKEN} was committed by mistake.",
            "Use the token {TOKEN} for the nightly job.",
            'config: api_key="{SECRET}" and timeout=30',
            "password: {PASSWORD}",
            "curl -H 'Authorization: Bearer {JWT}' https://api.example.com/v1/me",
            "Set GITHUB_TOKEN to {TOKEN} in the runner.",
        ],
        "MIXED": [
            "Hi, this is {x:first}. Email {EMAIL}, phone {PHONE}, and the card on file is {CARD}.",
            "Customer record: {EMAIL} | {PHONE_US} | SSN {SSN} | last login from {IPV4}",
            "Please pay {IBAN} and send the receipt to {EMAIL}.",
            "Incident {x:int}: key {AWS_KEY} used from {IP} at {x:timestamp}.",
            "Order {x:order} for {EMAIL}: shipped {x:date}, tracking {x:tracking}, card {CARD}.",
            "The app v{x:int}.2.1 logs {EMAIL} and the token {TOKEN} in plain text.",
            "Reach {x:first} at {PHONE_UK} or {EMAIL}; her IBAN is {IBAN}.",
            "{x:first} called from {PHONE} about invoice {x:invoice}, paid by {CARD}.",
            "Deploy notes: db at {URL}, admin {EMAIL}, host {IP}.",
            "Payroll: SSN {SSN}, account {IBAN}, phone {PHONE_US}.",
            "Support ticket {x:int} from {EMAIL} ({IPV6}): card {CARD} was charged twice on {x:date}.",
            "Config dump: aws_secret_access_key={AWS_SECRET}, bearer={TOKEN}, host={IPV4}",
        ],
    },
    lookalike={
        "order_number": [
            "Your order {x:order} has shipped and should arrive in {x:int} days.",
            "Orders {x:order} and {x:order} were merged into one parcel.",
            "Reference {x:order} on every message about this purchase.",
        ],
        "version": [
            "We upgraded the cluster to {x:version} last night.",
            "Version {x:version} fixes the memory leak reported in {x:version}.",
            "Requires Python {x:version} or newer and pip {x:version}.",
        ],
        "version_ip": [
            "Install version {x:version_ip} of the agent on every host.",
            "The firmware release {x:version_ip} bricked two routers.",
            "Build {x:version_ip} is the last one before the freeze.",
        ],
        "date": [
            "The meeting moved from {x:date} to {x:date}.",
            "Invoices dated {x:date} are overdue.",
            "Born on {x:date}? You qualify for the early-bird rate.",
        ],
        "timestamp": [
            "The job started at {x:timestamp} and failed at {x:timestamp}.",
            "Last modified: {x:timestamp}",
            "The event carried the epoch time {x:timestamp}.",
        ],
        "isbn": [
            "The book (ISBN {x:isbn}) is out of print.",
            "Order ISBN {x:isbn} and ISBN {x:isbn} for the reading list.",
            "Cite it as: Smith, J. Data Privacy. ISBN {x:isbn}.",
        ],
        "tracking": [
            "Tracking number {x:tracking} shows the parcel in the depot.",
            "The carrier gave us {x:tracking} and then {x:tracking}.",
            "Your shipment {x:tracking} is out for delivery.",
        ],
        "invoice": [
            "Invoice {x:invoice} is attached; payment terms are 30 days.",
            "We credited invoice {x:invoice} against {x:invoice}.",
        ],
        "hash": [
            "The fix landed in commit {x:hex} on main.",
            "Checksum {x:hex} matches the published one.",
            "Request id {x:hex} failed with a timeout.",
        ],
        "sku": [
            "Item {x:sku} is back in stock.",
            "Barcode {x:sku} scans as the wrong product.",
            "Replace part {x:sku} with part {x:sku}.",
        ],
        "numeric_range": [
            "See pages {x:range} for the full derivation.",
            "The survey covered the years {x:range}.",
            "Budget: {x:range} per quarter, depending on demand.",
        ],
        "money_coordinates": [
            "The total came to {x:money} including tax.",
            "The site is at {x:money}, near the river.",
            "Pi is about {x:money}, give or take.",
        ],
        "plain_url": [
            "The guide is at {x:url} for anyone who asks.",
            "See {x:url} and {x:url} for details.",
        ],
        "token_words": [
            "He was the bearer of bad news about the token economy.",
            "Rotate the API key every 90 days; the password policy requires 12 characters.",
            "The sk-learn wrapper and the token: see the appendix for both.",
            "Password: required. Token: optional. Secret: none.",
            "AKIA is the prefix of long-term AWS access key ids; ASIA marks temporary ones.",
            "Use `Bearer <token>` in the Authorization header, as the docs describe.",
        ],
    },
    per_type=45,
    mixed=160,
    per_lookalike=22,
)


def write(records: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))


def build() -> dict[str, list[dict]]:
    from pii_corpus_fresh import FRESH
    from pii_corpus_heldout import HELDOUT

    return {
        "tuning": generate(TUNING, TUNING_SEED, "tuning"),
        "heldout": generate(HELDOUT, HELDOUT_SEED, "heldout"),
        "fresh": generate(FRESH, FRESH_SEED, "fresh"),
    }


def main() -> None:
    for name, records in build().items():
        write(records, DATA / f"{name}.jsonl")
        print(f"{name}: {len(records)} texts -> {(DATA / f'{name}.jsonl').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
