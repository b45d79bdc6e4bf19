"""Fresh templates of the PII corpus: written after the detectors were changed on the held-out set's
misses, in other text shapes (logs, CSV, YAML, chat, markdown) and with other value formats and
look-alike kinds, and measured once as they stood. Never used to tune the detectors."""

from __future__ import annotations

import random
import string

import pii_values as v
from pii_corpus import TemplateSet


def _phone(rng: random.Random) -> str:
    d = v._nanp_digits(rng)
    a, e, n = d[:3], d[3:6], d[6:]

    def pairs(count: int, separator: str) -> str:
        return separator.join(str(rng.randrange(10, 99)) for _ in range(count))

    return rng.choice(
        [
            f"+1-{a}-{e}-{n}",
            f"tel:+1{d}",
            f"(+44) 20 {rng.randrange(3, 9)}{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"+49-30-{rng.randrange(1000000, 9999999)}",
            f"+33.1.{pairs(4, '.')}",
            f"0800 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"+61 (0)2 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
            f"{a}-{e}-{n} x{rng.randrange(10, 999)}",
            f"+31 6 {rng.randrange(10000000, 99999999)}",
            f"+41 44 {rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
            f"0{rng.randrange(6, 8)} {pairs(4, ' ')}",
            f"+7 495 {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}",
        ]
    )


def _card(rng: random.Random) -> str:
    digits = v.card_number(rng, rng.choice(["visa", "mastercard", "discover", "jcb", "amex"]))
    return rng.choice([v.format_card(digits, " "), digits, v.format_card(digits, "-")])


def _iban(rng: random.Random) -> str:
    compact = v.iban_compact(rng)
    return rng.choice([compact, " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))])


def _ip(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"2001:db8:0:0:0:0:{rng.randrange(1, 9)}:{rng.randrange(1, 9)}",
            f"fe80::{rng.randrange(65536):x}:{rng.randrange(65536):x}",
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        ]
    )


def _ssn(rng: random.Random) -> str:
    d = v.ssn_digits(rng)
    return f"{d[:3]}-{d[3:5]}-{d[5:]}"


def _url(rng: random.Random) -> str:
    host = rng.choice(v.HOSTS)
    token = v._random_chars(rng, v.ALNUM, rng.randrange(24, 40))
    return rng.choice(
        [
            f"https://{host}/v3/data?apikey={token}",
            f"https://{rng.choice(v.FIRST)}:{v.password(rng)}@{host}/",
            f"amqps://worker:{v.password(rng)}@{host}:5671/jobs",
            f"https://{host}/share?sig={token}&se=2030-01-01",
            f"https://{host}/login?user={rng.choice(v.FIRST)}&password={v.password(rng)}",
        ]
    )


def _token(rng: random.Random) -> str:
    return rng.choice([v.prefixed_token(rng), "xoxp-" + v._random_chars(rng, v.ALNUM, 40), v.jwt(rng)])


HEX = "0123456789abcdef"


def _oid(rng: random.Random) -> str:
    return "1.3.6.1.4.1." + ".".join(str(rng.randrange(1, 40000)) for _ in range(rng.randrange(1, 4)))


def _semver_range(rng: random.Random) -> str:
    return rng.choice(
        [
            f"^{rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(20)}",
            f">={rng.randrange(1, 5)}.{rng.randrange(10)},<{rng.randrange(5, 9)}.0",
            f"~{rng.randrange(1, 4)}.{rng.randrange(10)}",
        ]
    )


def _upc(rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(12))


def _serial(rng: random.Random) -> str:
    return rng.choice(
        [
            f"S/N {rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}",
            f"SN{rng.randrange(10**9, 10**10)}",
            f"{''.join(rng.choice(string.ascii_uppercase) for _ in range(3))}{rng.randrange(100000, 999999)}",
        ]
    )


def _flight(rng: random.Random) -> str:
    return f"{rng.choice(['BA', 'LH', 'AF', 'UA', 'DL'])} {rng.randrange(10, 9999)}"


def _routing(rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(9))


def _tariff(rng: random.Random) -> str:
    return (
        f"{rng.randrange(1000, 9999)}.{rng.randrange(10, 99)}.{rng.randrange(10, 99)}.{rng.randrange(10, 99)}"
    )


def _digest(rng: random.Random) -> str:
    return "sha256:" + "".join(rng.choice(HEX) for _ in range(64))


def _measurements(rng: random.Random) -> str:
    return " ".join(str(rng.randrange(10, 99)) for _ in range(rng.randrange(4, 8)))


def _log_time(rng: random.Random) -> str:
    day, year = rng.randrange(1, 29), rng.randrange(2019, 2026)
    hour, minute, second = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    return f"[{day:02d}/Mar/{year}:{hour:02d}:{minute:02d}:{second:02d} +0000]"


def _percent(rng: random.Random) -> str:
    return f"{rng.randrange(1, 99)}.{rng.randrange(10)}% of {rng.randrange(1000, 99999):,}"


def _cell(rng: random.Random) -> str:
    return f"{rng.choice('ABCDEFGH')}{rng.randrange(1, 999)}:{rng.choice('ABCDEFGH')}{rng.randrange(1, 999)}"


FRESH = TemplateSet(
    pii={
        "EMAIL": [
            "name,email,plan\n{x:first},{EMAIL},pro",
            "[10:42] <{x:first}> ping me at {EMAIL} when the build is green",
            "| owner | {EMAIL} |",
            "notify:\n  - {EMAIL}\n  - {EMAIL}",
        ],
        "PHONE": [
            "contact_phone: {FPHONE}",
            "Tel.: {FPHONE}",
            "| support line | {FPHONE} |",
            "Leave a message on {FPHONE}, I'll call back.",
        ],
        "CARD": [
            "| card | {FCARD} |",
            "payment.card_number={FCARD}",
            "Charged {FCARD} twice on the same day.",
        ],
        "IBAN": [
            "iban: {FIBAN}",
            "Beneficiary account {FIBAN} (EUR).",
            "{x:first};{FIBAN};paid",
        ],
        "IP": [
            '{FIP} - - {LOGTIME} "GET /login HTTP/1.1" 401 512',
            "X-Forwarded-For: {FIP}, {FIP}",
            "client={FIP} status=blocked",
        ],
        "SSN": [
            "SSN# {FSSN}",
            "ssn={SSN9}",
            "Please confirm the SSN on the form ({FSSN}).",
        ],
        "URL_SECRET": [
            "[database]({FURL})",
            "BROKER_URL={FURL}",
            "curl '{FURL}'",
        ],
        "AWS_KEY": [
            "aws_access_key_id: {AWS_KEY}",
            "IAM user key {AWS_KEY} was last used 3 days ago.",
        ],
        "AWS_SECRET": [
            "aws_access_key_id: {AWS_KEY}\naws_secret_access_key: {AWS_SECRET}",
            "AWS secret access key: {AWS_SECRET}",
        ],
        "TOKEN": [
            "OPENAI_API_KEY={TOKEN}",
            "Authorization: token {TOKEN}",
            "slack_token = {FTOKEN}",
            "Cookie: session={JWT}; theme=dark",
            "client_secret: {SECRET}",
        ],
        "MIXED": [
            "user,email,phone,ip\n{x:first},{EMAIL},{FPHONE},{FIP}",
            "[09:15] <{x:first}> my card {FCARD} got declined, email {EMAIL}",
            "| {x:first} | {EMAIL} | {FIBAN} |",
            "env:\n  DB_URL: {FURL}\n  AWS_KEY: {AWS_KEY}\n  API_TOKEN: {TOKEN}",
            "{FIP} {LOGTIME} POST /api user={EMAIL} ssn={FSSN}",
        ],
    },
    lookalike={
        "oid": ["snmpget -v2c host {OID}", "The OID {OID} maps to the fan speed."],
        "semver_range": ['"lodash": "{SEMVER}"', "Pin it to {SEMVER} for now."],
        "upc": ["UPC {UPC} rang up twice.", "Scan {UPC} at the self-checkout."],
        "serial": ["Device {SERIAL} is under warranty.", "Return {SERIAL} to the depot."],
        "flight": ["Flight {FLIGHT} leaves at 10:35 from gate 22.", "Rebooked from {FLIGHT} to {FLIGHT}."],
        "routing_number": ["Routing number {ROUTING} identifies the bank, not a person.", "ABA {ROUTING}"],
        "tariff_code": ["Declared under HS code {TARIFF}.", "Tariff {TARIFF} applies."],
        "image_digest": ["image: app@{DIGEST}", "Pulled {DIGEST} in 4 s."],
        "measurements": ["Readings: {MEASUREMENTS}.", "The bins held {MEASUREMENTS} items."],
        "log_timestamp": ['{LOGTIME} "GET /health HTTP/1.1" 200', "started {LOGTIME} finished {LOGTIME}"],
        "percentages": ["Conversion was {PERCENT} visitors.", "{PERCENT} sessions bounced."],
        "spreadsheet": ["Sum the range {CELL}.", "Copy {CELL} into the summary tab."],
    },
    per_type=25,
    mixed=60,
    per_lookalike=15,
    slots={
        "FPHONE": (_phone, "PHONE"),
        "FCARD": (_card, "CARD"),
        "FIBAN": (_iban, "IBAN"),
        "FIP": (_ip, "IP"),
        "FSSN": (_ssn, "SSN"),
        "FURL": (_url, "URL_SECRET"),
        "FTOKEN": (_token, "TOKEN"),
        "LOGTIME": (_log_time, None),
        "OID": (_oid, None),
        "SEMVER": (_semver_range, None),
        "UPC": (_upc, None),
        "SERIAL": (_serial, None),
        "FLIGHT": (_flight, None),
        "ROUTING": (_routing, None),
        "TARIFF": (_tariff, None),
        "DIGEST": (_digest, None),
        "MEASUREMENTS": (_measurements, None),
        "PERCENT": (_percent, None),
        "CELL": (_cell, None),
    },
)
