"""Valid PII values and look-alikes for the PII corpus, each drawn from a seeded `random.Random`.

Values are valid by the rules a real one obeys (Luhn, mod-97, NANP, SSN ranges, country lengths), in
the formats people write them in. Every format a generator can produce is named, so the corpus can
say which one a text holds. None of these values belongs to anyone: card numbers and IBANs are random
numbers with a computed check digit, phone numbers random within their plan.
"""

from __future__ import annotations

import base64
import json
import random
import string

FIRST = [
    "james", "maria", "wei", "fatima", "olga", "kwame", "lucia", "hiro", "amelia", "noah", "priya",
    "lars", "chloe", "mateo", "aisha", "tomas", "ines", "yusuf", "elena", "sven", "nora", "diego",
]  # fmt: skip
LAST = [
    "smith", "garcia", "chen", "haddad", "ivanova", "mensah", "rossi", "tanaka", "brown", "muller",
    "patel", "nilsen", "dubois", "fernandez", "khan", "novak", "silva", "yilmaz", "petrova", "berg",
]  # fmt: skip
DOMAINS = [
    "example.com", "example.org", "mail.example.net", "corp.example.co.uk", "example.io",
    "uni-example.edu", "example.de", "shop.example.fr", "example-health.com", "dept.example.gov",
    "example.travel", "example.com.au",
]  # fmt: skip
HOSTS = ["api.example.com", "db.internal.example.net", "files.example.org", "example.io", "app.example.de"]


def email(rng: random.Random) -> str:
    first, last, domain = rng.choice(FIRST), rng.choice(LAST), rng.choice(DOMAINS)
    shape = rng.randrange(7)
    if shape == 0:
        local = f"{first}.{last}"
    elif shape == 1:
        local = f"{first}_{last}{rng.randrange(10, 99)}"
    elif shape == 2:
        local = f"{first[0]}.{last}+{rng.choice(['news', 'billing', 'work'])}"
    elif shape == 3:
        local = f"{first}{rng.randrange(1970, 2005)}"
    elif shape == 4:
        local = f"{first.capitalize()}.{last.capitalize()}"
    elif shape == 5:
        local = f"{first}-{last}"
    else:
        local = f"{last}.{first[0]}"
    return f"{local}@{domain}"


def _nanp_digits(rng: random.Random) -> str:
    while True:
        area = f"{rng.randrange(2, 10)}{rng.randrange(0, 9)}{rng.randrange(10)}"
        exchange = f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
        if area[1:] != "11" and exchange[1:] != "11":
            return area + exchange + f"{rng.randrange(10000):04d}"


def phone_nanp(rng: random.Random, shape: str | None = None) -> str:
    d = _nanp_digits(rng)
    a, e, n = d[:3], d[3:6], d[6:]
    shapes = {
        "paren": f"({a}) {e}-{n}",
        "dash": f"{a}-{e}-{n}",
        "dot": f"{a}.{e}.{n}",
        "space": f"{a} {e} {n}",
        "plus1_space": f"+1 {a} {e} {n}",
        "plus1_dash": f"+1-{a}-{e}-{n}",
        "one_dash": f"1-{a}-{e}-{n}",
        "plus1_paren": f"+1 ({a}) {e}-{n}",
        "e164": f"+1{d}",
    }
    return shapes[shape or rng.choice(list(shapes))]


def phone_uk(rng: random.Random) -> str:
    shape = rng.randrange(6)
    if shape == 0:
        return f"020 {rng.randrange(3, 9)}{rng.randrange(100, 999)} {rng.randrange(10000):04d}"
    if shape == 1:
        return f"07{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}"
    if shape == 2:
        return f"+44 20 {rng.randrange(3, 9)}{rng.randrange(100, 999)} {rng.randrange(10000):04d}"
    if shape == 3:
        return f"+44 7{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}"
    if shape == 4:
        return f"01{rng.randrange(21, 99)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
    return f"+44 (0)20 {rng.randrange(3, 9)}{rng.randrange(100, 999)} {rng.randrange(10000):04d}"


def phone_de(rng: random.Random) -> str:
    shape = rng.randrange(5)
    if shape == 0:
        return f"+49 30 {rng.randrange(10000000, 99999999)}"
    if shape == 1:
        return f"030 {rng.randrange(1000000, 99999999)}"
    if shape == 2:
        return f"089/{rng.randrange(1000000, 9999999)}"
    if shape == 3:
        return f"0171 {rng.randrange(1000000, 9999999)}"
    return f"+49 171 {rng.randrange(1000000, 9999999)}"


def phone_fr(rng: random.Random) -> str:
    pairs = [f"{rng.randrange(100):02d}" for _ in range(4)]
    lead = rng.randrange(1, 8)
    shape = rng.randrange(4)
    if shape == 0:
        return f"0{lead} " + " ".join(pairs)
    if shape == 1:
        return f"0{lead}." + ".".join(pairs)
    if shape == 2:
        return f"+33 {lead} " + " ".join(pairs)
    return f"0{lead}-" + "-".join(pairs)


def phone_international(rng: random.Random) -> str:
    shape = rng.randrange(7)
    if shape == 0:
        return f"+34 6{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"
    if shape == 1:
        return f"+39 06 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    if shape == 2:
        return f"+31 20 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
    if shape == 3:
        return f"+61 2 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    if shape == 4:
        return f"+81 3-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"
    if shape == 5:
        return f"+91 9{rng.randrange(1000, 9999)} {rng.randrange(10000, 99999)}"
    return f"+55 11 9{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"


def phone(rng: random.Random) -> str:
    return rng.choice([phone_nanp, phone_nanp, phone_uk, phone_de, phone_fr, phone_international])(rng)


def luhn_complete(body: str) -> str:
    """`body` with the check digit that makes it pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return body + str((10 - total % 10) % 10)


_CARD_PREFIXES = {
    "visa": (["4"], 16),
    "mastercard": (["51", "52", "53", "54", "55", "2221", "2500", "2720"], 16),
    "amex": (["34", "37"], 15),
    "discover": (["6011", "65"], 16),
    "jcb": (["3528", "3540", "3589"], 16),
    "diners": (["36", "38"], 14),
    "unionpay": (["62"], 16),
}


def card_number(rng: random.Random, brand: str | None = None) -> str:
    prefixes, length = _CARD_PREFIXES[brand or rng.choice(list(_CARD_PREFIXES))]
    prefix = rng.choice(prefixes)
    if prefix == "62":  # not the Discover co-branded range
        prefix = "628"
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return luhn_complete(body)


def format_card(digits: str, separator: str) -> str:
    if len(digits) == 15 or len(digits) == 14:
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return separator.join(groups)


def card(rng: random.Random) -> str:
    return format_card(card_number(rng), rng.choice([" ", " ", "-", ""]))


_IBAN_SHAPES = {  # country: BBAN pattern (a: capital letter, n: digit)
    "DE": "n" * 18, "GB": "aaaa" + "n" * 14, "FR": "n" * 23, "ES": "n" * 20, "IT": "a" + "n" * 22,
    "NL": "aaaa" + "n" * 10, "BE": "n" * 12, "CH": "n" * 17, "AT": "n" * 16, "PL": "n" * 24,
    "SE": "n" * 20, "IE": "aaaa" + "n" * 14, "PT": "n" * 21, "NO": "n" * 11, "DK": "n" * 14,
}  # fmt: skip


def iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


def iban_compact(rng: random.Random, country: str | None = None) -> str:
    country = country or rng.choice(list(_IBAN_SHAPES))
    bban = "".join(
        rng.choice(string.ascii_uppercase) if c == "a" else str(rng.randrange(10))
        for c in _IBAN_SHAPES[country]
    )
    return country + iban_check(country, bban) + bban


def iban(rng: random.Random) -> str:
    compact = iban_compact(rng)
    if rng.random() < 0.6:
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


def ipv4(rng: random.Random) -> str:
    shape = rng.randrange(5)
    if shape == 0:
        return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if shape == 1:
        return f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if shape == 2:
        return f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if shape == 3:
        return f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.0/{rng.choice([16, 20, 24])}"
    return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randrange(65536):x}" for _ in range(8)]
    shape = rng.randrange(5)
    if shape == 0:
        return ":".join(groups)
    if shape == 1:
        return f"2001:db8:{groups[2]}::{groups[7]}"
    if shape == 2:
        return f"fe80::{groups[4]}:{groups[5]}:{groups[6]}:{groups[7]}"
    if shape == 3:
        return f"2a02:{groups[1]}:{groups[2]}:{groups[3]}::/64"
    return ":".join(f"{rng.randrange(65536):04x}" for _ in range(8))


def ip(rng: random.Random) -> str:
    return ipv4(rng) if rng.random() < 0.6 else ipv6(rng)


def ssn_digits(rng: random.Random) -> str:
    while True:
        area = rng.randrange(1, 900)
        if area != 666:
            return f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"


def ssn(rng: random.Random) -> str:
    d = ssn_digits(rng)
    return f"{d[:3]}-{d[3:5]}-{d[5:]}" if rng.random() < 0.85 else f"{d[:3]} {d[3:5]} {d[5:]}"


def _random_chars(rng: random.Random, alphabet: str, size: int) -> str:
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(size))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "/+"
URLSAFE = ALNUM + "-_"


def password(rng: random.Random) -> str:
    word = rng.choice(["sunflower", "Winter", "dragon", "Purple", "horse", "Tiger", "maple"])
    return word + str(rng.randrange(10, 9999)) + rng.choice(["", "!", "#", "$", "*"])


def url_secret(rng: random.Random) -> str:
    host = rng.choice(HOSTS)
    token = _random_chars(rng, URLSAFE, rng.randrange(20, 40))
    shape = rng.randrange(8)
    if shape == 0:
        return f"https://{rng.choice(FIRST)}:{password(rng)}@{host}/reports/q3"
    if shape == 1:
        return f"postgres://app_user:{password(rng)}@{host}:5432/orders"
    if shape == 2:
        return f"https://{host}/v1/export?format=csv&api_key={token}"
    if shape == 3:
        return f"https://{host}/account/reset?token={token}"
    if shape == 4:
        key_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
        signature = "".join(rng.choice("0123456789abcdef") for _ in range(64))
        return (
            f"https://files-{rng.randrange(100)}.s3.amazonaws.com/invoice.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={key_id}%2F20240115%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=3600"
            f"&X-Amz-Signature={signature}"
        )
    if shape == 5:
        upper = string.ascii_uppercase + string.digits
        return (
            f"https://hooks.slack.com/services/T{_random_chars(rng, upper, 8)}"
            f"/B{_random_chars(rng, upper, 8)}/{_random_chars(rng, ALNUM, 24)}"
        )
    if shape == 6:
        return f"redis://:{password(rng)}@{host}:6379/0"
    return f"https://{host}/oauth/callback#access_token={token}&token_type=bearer"


def aws_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "AKIA", "ASIA"]) + "".join(
        rng.choice(string.ascii_uppercase + "234567") for _ in range(16)
    )


def aws_secret(rng: random.Random) -> str:
    while True:
        value = "".join(rng.choice(B64) for _ in range(40))
        if (
            any(c.isupper() for c in value)
            and any(c.islower() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


def jwt(rng: random.Random) -> str:
    def part(payload: str) -> str:
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    header = part('{"alg":"HS256","typ":"JWT"}')
    claims = {
        "sub": str(rng.randrange(10**9)),
        "name": rng.choice(FIRST),
        "iat": rng.randrange(10**9, 2 * 10**9),
    }
    body = part(json.dumps(claims, separators=(",", ":")))
    return f"{header}.{body}.{_random_chars(rng, URLSAFE, 43)}"


def prefixed_token(rng: random.Random) -> str:
    shape = rng.randrange(9)
    if shape == 0:
        return "sk-" + _random_chars(rng, ALNUM, 48)
    if shape == 1:
        return "sk-proj-" + _random_chars(rng, URLSAFE, 64)
    if shape == 2:
        return "ghp_" + _random_chars(rng, ALNUM, 36)
    if shape == 3:
        workspace, bot = rng.randrange(10**11, 10**12), rng.randrange(10**12, 10**13)
        return f"xoxb-{workspace}-{bot}-{_random_chars(rng, ALNUM, 24)}"
    if shape == 4:
        return "AIza" + _random_chars(rng, URLSAFE, 35)
    if shape == 5:
        return "glpat-" + _random_chars(rng, URLSAFE, 20)
    if shape == 6:
        return "sk_live_" + _random_chars(rng, ALNUM, 24)
    if shape == 7:
        return "npm_" + _random_chars(rng, ALNUM, 36)
    return "hf_" + _random_chars(rng, ALNUM, 34)


def bearer_token(rng: random.Random) -> str:
    return jwt(rng) if rng.random() < 0.6 else _random_chars(rng, URLSAFE, rng.randrange(24, 48))


def api_secret(rng: random.Random) -> str:
    return _random_chars(rng, ALNUM, rng.randrange(24, 40))


# ---------------------------------------------------------------------------------------------------
# Look-alikes: numbers and codes of ordinary text that are not personal data.


def order_number(rng: random.Random) -> str:
    shape = rng.randrange(4)
    if shape == 0:
        return f"#{rng.randrange(100000, 9999999999)}"
    if shape == 1:
        return f"ORD-{rng.randrange(2019, 2026)}-{rng.randrange(100000, 999999)}"
    if shape == 2:
        return (
            f"{rng.randrange(100, 999)}-{rng.randrange(1000000, 9999999)}-{rng.randrange(1000000, 9999999)}"
        )
    return f"{rng.randrange(10**7, 10**8)}"


def version(rng: random.Random) -> str:
    shape = rng.randrange(4)
    if shape == 0:
        return f"v{rng.randrange(1, 20)}.{rng.randrange(30)}.{rng.randrange(30)}"
    if shape == 1:
        return f"{rng.randrange(1, 12)}.{rng.randrange(20)}.{rng.randrange(50)}"
    if shape == 2:
        return f"10.0.{rng.randrange(17000, 26000)}.{rng.randrange(1, 5000)}"
    return f"{rng.randrange(1, 9)}.{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(1, 200)}"


def date(rng: random.Random) -> str:
    y, m, d = rng.randrange(1990, 2031), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}.{m:02d}.{y}",
            f"{m:02d}/{d:02d}/{y}",
            f"{d}/{m}/{y}",
            f"{d:02d}-{m:02d}-{y}",
            f"{d:02d}.{m:02d}.{y} {rng.randrange(24):02d}:{rng.randrange(60):02d}",
        ]
    )


def timestamp(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randrange(2015, 2030)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z",
            str(rng.randrange(1_400_000_000, 1_900_000_000)),
            str(rng.randrange(1_400_000_000_000, 1_900_000_000_000)),
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}",
        ]
    )


def isbn(rng: random.Random) -> str:
    body = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
    thirteen = body + str(check)
    if rng.random() < 0.4:
        return f"{thirteen[:3]}-{thirteen[3]}-{thirteen[4:7]}-{thirteen[7:12]}-{thirteen[12]}"
    if rng.random() < 0.5:
        return thirteen
    ten = "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum((10 - i) * int(c) for i, c in enumerate(ten))
    check10 = (11 - total % 11) % 11
    ten += "X" if check10 == 10 else str(check10)
    return f"{ten[0]}-{ten[1:4]}-{ten[4:9]}-{ten[9]}"


def tracking(rng: random.Random) -> str:
    shape = rng.randrange(5)
    if shape == 0:
        return "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    if shape == 1:
        digits = "9400" + "".join(str(rng.randrange(10)) for _ in range(18))
        return " ".join(digits[i : i + 4] for i in range(0, 22, 4))
    if shape == 2:
        return "".join(str(rng.randrange(10)) for _ in range(12))
    if shape == 3:
        return "".join(str(rng.randrange(10)) for _ in range(10))
    return f"{rng.choice(['RR', 'CP', 'LX'])}{rng.randrange(10**8, 10**9)}GB"


def invoice(rng: random.Random) -> str:
    return rng.choice(
        [
            f"INV-{rng.randrange(2019, 2026)}-{rng.randrange(1, 999999):06d}",
            f"{rng.randrange(2019, 2026)}/{rng.randrange(1, 99999):05d}",
            f"F{rng.randrange(10**6, 10**7)}",
        ]
    )


def hex_id(rng: random.Random) -> str:
    shape = rng.randrange(4)
    if shape == 0:
        return "".join(rng.choice("0123456789abcdef") for _ in range(40))
    if shape == 1:
        return "".join(rng.choice("0123456789abcdef") for _ in range(64))
    if shape == 2:
        h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return "".join(rng.choice("0123456789abcdef") for _ in range(7))


def sku(rng: random.Random) -> str:
    shape = rng.randrange(4)
    if shape == 0:
        body = "40" + "".join(str(rng.randrange(10)) for _ in range(10))
        check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
        return body + str(check)
    if shape == 1:
        letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
        return f"SKU-{letters}{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
    if shape == 2:
        return f"{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}-{rng.randrange(1, 9)}"
    return f"{rng.choice(['RTX', 'MX', 'XPS', 'WH'])}-{rng.randrange(100, 9999)}"


def numeric_range(rng: random.Random) -> str:
    a = rng.randrange(100, 9000)
    return rng.choice(
        [
            f"{a}-{a + rng.randrange(10, 900)}",
            f"{rng.randrange(1950, 2010)}-{rng.randrange(2010, 2030)}",
            f"{a:,}–{a * 3:,}",
            f"{rng.randrange(10000, 90000)}-{rng.randrange(90000, 99999)}",
            f"{rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
        ]
    )


def money(rng: random.Random) -> str:
    return rng.choice(
        [
            f"${rng.randrange(1, 99999):,}.{rng.randrange(100):02d}",
            f"€{rng.randrange(1, 9999)},{rng.randrange(100):02d}",
            f"{rng.randrange(1, 999)}.{rng.randrange(10**4):04d}",
            f"{rng.uniform(-90, 90):.4f}, {rng.uniform(-180, 180):.4f}",
        ]
    )


def version_ip(rng: random.Random) -> str:
    return f"{rng.randrange(1, 13)}.{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(1, 99)}"


def plain_url(rng: random.Random) -> str:
    host = rng.choice(HOSTS)
    return rng.choice(
        [
            f"https://{host}/docs?page={rng.randrange(2, 40)}&sort=asc",
            f"https://{host}/item?id={rng.randrange(1000, 99999)}&ref=newsletter",
            f"https://{host}/search?q=privacy+policy&key=value",
            f"https://{host}/blog/{rng.randrange(2019, 2026)}/tokens-explained",
        ]
    )
