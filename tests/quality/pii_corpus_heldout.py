"""Held-out templates of the PII corpus: other sentences, other value formats and other look-alike
kinds than the tuning set, drawn with another seed. Written before the detectors were tuned and not
used to tune them: their figures say how the detectors do on text they were not shaped by."""

from __future__ import annotations

import random
import string

import pii_values as v
from pii_corpus import TemplateSet


def _phone(rng: random.Random) -> str:
    d = v._nanp_digits(rng)
    a, e, n = d[:3], d[3:6], d[6:]
    uk = f"{rng.randrange(3, 9)}{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"

    def pairs() -> str:
        return " ".join(str(rng.randrange(10, 99)) for _ in range(4))

    return rng.choice(
        [
            f"+1 {a}.{e}.{n}",
            f"1 ({a}) {e}-{n}",
            f"({a}){e}-{n}",
            f"+1.{a}.{e}.{n}",
            f"+44 7700 {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            f"07700-{rng.randrange(100, 999)}-{rng.randrange(100, 999)}",
            f"(020) {uk}",
            f"0044 20 {uk}",
            f"+49 (0)30 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
            f"0049 89 {rng.randrange(1000000, 9999999)}",
            f"(089) {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"030-{rng.randrange(10000000, 99999999)}",
            f"+33 (0)1 {pairs()}",
            f"0033 6 {pairs()}",
            f"+353 1 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"+46 8 {rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(10, 99)}",
            f"+48 {rng.randrange(500, 899)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            f"+27 21 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"+65 6{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"+852 2{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"+972 3-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            f"+4420{rng.randrange(70000000, 89999999)}",
        ]
    )


def _card(rng: random.Random) -> str:
    digits = v.card_number(rng)
    return rng.choice([v.format_card(digits, "-"), digits, v.format_card(digits, " ")])


_MORE_IBANS = {  # country: BBAN pattern (a: capital letter, n: digit)
    "FI": "n" * 14, "LU": "n" * 16, "HU": "n" * 24, "CZ": "n" * 20, "SK": "n" * 20,
    "RO": "aaaa" + "n" * 16, "GR": "n" * 23, "HR": "n" * 17, "SI": "n" * 15, "LT": "n" * 16,
    "LV": "aaaa" + "n" * 13, "EE": "n" * 16, "BG": "aaaa" + "n" * 14, "TR": "n" * 22,
    "SA": "n" * 20, "AE": "n" * 19, "CY": "n" * 24, "MT": "aaaa" + "n" * 23,
}  # fmt: skip


def _iban(rng: random.Random) -> str:
    country = rng.choice(list(_MORE_IBANS))
    bban = "".join(
        rng.choice(string.ascii_uppercase) if c == "a" else str(rng.randrange(10))
        for c in _MORE_IBANS[country]
    )
    compact = country + v.iban_check(country, bban) + bban
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) if rng.random() < 0.5 else compact


def _ip(rng: random.Random) -> str:
    return rng.choice(
        [
            f"203.0.113.{rng.randrange(1, 255)}",
            f"8.8.{rng.randrange(256)}.{rng.randrange(256)}",
            f"::ffff:192.0.2.{rng.randrange(1, 255)}",
            f"169.254.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"2600:1f18:{rng.randrange(65536):x}:{rng.randrange(65536):x}:{rng.randrange(65536):x}:"
            f"{rng.randrange(65536):x}:{rng.randrange(65536):x}:{rng.randrange(65536):x}",
            f"fd00:ec2::{rng.randrange(1, 65536):x}",
            f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.{rng.randrange(256)}",
        ]
    )


def _ssn(rng: random.Random) -> str:
    d = v.ssn_digits(rng)
    return rng.choice([f"{d[:3]}-{d[3:5]}-{d[5:]}", f"{d[:3]} {d[3:5]} {d[5:]}"])


def _url(rng: random.Random) -> str:
    host = rng.choice(v.HOSTS)
    token = v._random_chars(rng, v.URLSAFE, rng.randrange(24, 44))
    return rng.choice(
        [
            f"mysql://root:{v.password(rng)}@{host}/crm",
            f"ftp://backup:{v.password(rng)}@{host}/nightly/",
            f"https://{host}/api/v2/users?access_token={token}",
            f"https://acct{rng.randrange(100)}.blob.core.windows.net/docs/f.pdf?sv=2022-11-02&ss=b&srt=o&sig={token}",
            f"https://storage.googleapis.com/bucket/o.bin?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={token}",
            f"https://discord.com/api/webhooks/{rng.randrange(10**17, 10**18)}/{token}",
            f"wss://{host}/socket?client=web&token={token}",
            f"mongodb+srv://admin:{v.password(rng)}@cluster0.{host}/test",
        ]
    )


def _pem(rng: random.Random) -> str:
    lines = ["".join(rng.choice(v.B64) for _ in range(64)) for _ in range(4)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"


def _basic(rng: random.Random) -> str:
    import base64

    return base64.b64encode(f"{rng.choice(v.FIRST)}:{v.password(rng)}".encode()).decode()


def _section(rng: random.Random) -> str:
    return f"{rng.randrange(1, 12)}.{rng.randrange(1, 9)}.{rng.randrange(1, 9)}.{rng.randrange(1, 9)}"


def _chrome(rng: random.Random) -> str:
    return f"{rng.randrange(100, 130)}.0.{rng.randrange(5000, 7000)}.{rng.randrange(10, 250)}"


def _sort_code(rng: random.Random) -> str:
    return f"{rng.randrange(10, 99)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"


def _patent(rng: random.Random) -> str:
    return f"US {rng.randrange(7, 12)},{rng.randrange(100, 999)},{rng.randrange(100, 999)} B2"


def _zip4(rng: random.Random) -> str:
    return f"{rng.randrange(10000, 99999)}-{rng.randrange(1000, 9999)}"


def _case(rng: random.Random) -> str:
    return rng.choice(
        [
            f"#{rng.randrange(10**7, 10**8):08d}",
            f"JIRA-{rng.randrange(100, 9999)}",
            f"CS{rng.randrange(10**8, 10**9)}",
        ]
    )


def _lottery(rng: random.Random) -> str:
    return " ".join(f"{n:02d}" for n in sorted(rng.sample(range(1, 60), 6)))


def _figures(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randrange(1, 999)},{rng.randrange(100, 999)},{rng.randrange(100, 999)}",
            f"{rng.randrange(1, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            f"{rng.randrange(10, 99)}.{rng.randrange(100, 999)}.{rng.randrange(100, 999)}"
            f",{rng.randrange(10, 99)}",
        ]
    )


def _utm_url(rng: random.Random) -> str:
    host = rng.choice(v.HOSTS)
    return rng.choice(
        [
            f"https://{host}/?utm_source=mail&utm_campaign=spring{rng.randrange(10, 99)}",
            f"https://maps.{host}/?q={rng.uniform(-90, 90):.3f},{rng.uniform(-180, 180):.3f}",
            f"https://{host}/download?file=report-{rng.randrange(2019, 2026)}.pdf&lang=en",
        ]
    )


def _datetime(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randrange(2015, 2030)}/{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}",
            f"{rng.randrange(1, 29)} Jan {rng.randrange(2015, 2030)}"
            f" {rng.randrange(24):02d}:{rng.randrange(60):02d}:00 GMT",
            f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(15, 30)}",
        ]
    )


HELDOUT = TemplateSet(
    pii={
        "EMAIL": [
            "Questions? Write to {EMAIL}.",
            "cc: {EMAIL}, {EMAIL}",
            "Her new address ({EMAIL}) replaces the old one.",
            "Reply-To: {x:first} <{EMAIL}>",
            "Registered user {EMAIL} asked for a data export.",
        ],
        "PHONE": [
            "Telephone {HPHONE}, ask for the duty manager.",
            "You can also text {HPHONE}.",
            "Emergency contact: {HPHONE}",
            "Kontakt: {HPHONE} (Mo-Fr 9-17 Uhr)",
            "Reach the front desk on {HPHONE} or the night porter on {HPHONE}.",
        ],
        "CARD": [
            "Card ending in the full number {HCARD} must be blocked.",
            "Visa/MC: {HCARD}",
            "The chargeback concerns {HCARD}.",
            "Payment method: card {HCARD} (credit).",
        ],
        "IBAN": [
            "Account for the deposit: {HIBAN}.",
            "Überweisung bitte auf {HIBAN}.",
            "Remit to {HIBAN} with the booking number as reference.",
        ],
        "IP": [
            "Origin IP {HIP}; user agent curl.",
            "The metadata endpoint {HIP} was queried by the container.",
            "Requests from {HIP} were rate-limited.",
            "Peer address: {HIP}",
        ],
        "SSN": [
            "Employee SSN: {HSSN}.",
            "The W-2 lists social security number {HSSN}.",
            "Verify the SSN ({HSSN}) before payroll runs.",
        ],
        "URL_SECRET": [
            "Connection string: {HURL}",
            "The link {HURL} expires in an hour.",
            "Paste this into the client: {HURL}.",
        ],
        "AWS_KEY": [
            "Access key ID: {AWS_KEY}",
            '"AccessKeyId": "{AWS_KEY}",',
            "CloudTrail shows calls signed with {AWS_KEY}.",
        ],
        "AWS_SECRET": [
            '"AccessKeyId": "{AWS_KEY}", "SecretAccessKey": "{AWS_SECRET}"',
            "export AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
            "aws secret key: {AWS_SECRET}",
        ],
        "TOKEN": [
            "X-API-Key: {SECRET}",
            "token = '{SECRET}'",
            "GH_TOKEN={TOKEN} make release",
            '{"username": "{x:first}", "password": "{PASSWORD}"}',
            "Authorization: Basic {BASIC}",
            "The deploy key is below.\n{PEM}\nKeep it safe.",
            "Bearer {BEARER_TOKEN}",
        ],
        "MIXED": [
            "New hire: {EMAIL}, {HPHONE}, SSN {HSSN}, salary account {HIBAN}.",
            "Alert: {AWS_KEY} used from {HIP}; owner {EMAIL}.",
            "Refund {HCARD} and notify {EMAIL} (ticket {x:int}).",
            "Vendor {x:first}: {HIBAN}, {HPHONE}, invoices to {EMAIL}.",
            "Leaked in the paste: {HURL} and {TOKEN}.",
            "Guest Wi-Fi log: {HIP} {x:timestamp} {EMAIL}",
            "Contact {x:first} on {HPHONE}; card {HCARD}; version {x:version} of the app.",
            "Billing: {HIBAN} | Card: {HCARD} | Tel: {HPHONE}",
        ],
    },
    lookalike={
        "section_number": [
            "See section {SECTION} of the standard.",
            "Clause {SECTION} was amended in the {x:year} revision.",
        ],
        "browser_version": [
            "Chrome {CHROME} renders the page correctly.",
            "Tested on Edge {CHROME} and Firefox {x:int}.0.",
        ],
        "sort_code": [
            "Sort code {SORT_CODE}, account at the same branch.",
            "The branch sort code is {SORT_CODE}.",
        ],
        "patent": ["Protected by {PATENT}.", "See {PATENT} and {PATENT}."],
        "zip": ["Ship to ZIP {ZIP4}, suite {x:int}.", "ZIP+4 codes like {ZIP4} speed up sorting."],
        "case_number": ["Case {CASE} is closed.", "Follow up on {CASE} and {CASE} tomorrow."],
        "lottery": ["This week's numbers: {LOTTERY}.", "She played {LOTTERY} every week for ten years."],
        "figures": [
            "Revenue reached {FIGURES} in the last quarter.",
            "The population was {FIGURES} at the census.",
        ],
        "plain_url": ["Share {UTM_URL} with the team.", "Open {UTM_URL} in a new tab."],
        "datetime": ["Posted {DATETIME}.", "Next review: {DATETIME}."],
        "order_and_tracking": [
            "Order {x:order} ships with tracking {x:tracking}.",
            "Parcel {x:tracking} for order {x:order} was returned.",
        ],
        "isbn_and_sku": ["ISBN {x:isbn}, stock code {x:sku}.", "Reprint {x:isbn} replaces {x:isbn}."],
        "hash": ["Image digest sha256:{x:hex}", "Trace {x:hex} spans three services."],
        "secret_words": [
            "The password must contain at least one digit and 12 characters.",
            "Bearer token authentication is described in RFC 6750.",
            "Our secret key management moved to the vault in {x:year}.",
            "Token: see the appendix. Password: ask IT.",
        ],
    },
    per_type=30,
    mixed=100,
    per_lookalike=16,
    slots={
        "HPHONE": (_phone, "PHONE"),
        "HCARD": (_card, "CARD"),
        "HIBAN": (_iban, "IBAN"),
        "HIP": (_ip, "IP"),
        "HSSN": (_ssn, "SSN"),
        "HURL": (_url, "URL_SECRET"),
        "PEM": (_pem, "TOKEN"),
        "BASIC": (_basic, "TOKEN"),
        "SECTION": (_section, None),
        "CHROME": (_chrome, None),
        "SORT_CODE": (_sort_code, None),
        "PATENT": (_patent, None),
        "ZIP4": (_zip4, None),
        "CASE": (_case, None),
        "LOTTERY": (_lottery, None),
        "FIGURES": (_figures, None),
        "UTM_URL": (_utm_url, None),
        "DATETIME": (_datetime, None),
    },
)
