"""The structured PII detectors: each kind found in the formats people write it in, validation failures
and look-alikes refused, overlaps resolved one way, and adversarial inputs answered correctly (their
time bound is in tests/bench/bench_pii.py, not here)."""

from __future__ import annotations

import pytest

from textapi_shared.privacy.detectors import card_valid, detect, iban_valid, luhn_valid, resolve, ssn_valid
from textapi_shared.privacy.entities import PiiSpan, PiiType


def found(text: str) -> list[tuple[str, str]]:
    return [(span.type.value, text[span.start : span.end]) for span in detect(text)]


def assert_finds(text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(text), found(text)


def assert_nothing(text: str) -> None:
    assert found(text) == []


# ---------------------------------------------------------------------------------------------------
# E-mail


@pytest.mark.parametrize(
    "value",
    [
        "jane.doe@example.com",
        "j.doe+billing@mail.example.co.uk",
        "JANE_DOE99@Example.ORG",
        "x-y.z@sub-domain.example.travel",
        "user@xn--bcher-kva.example",
    ],
)
def test_email_is_found_in_its_common_shapes(value):
    assert_finds(f"Write to {value}, please.", "EMAIL", value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("<jane@example.com>", "jane@example.com"),
        ("(mailto:jane@example.com)", "jane@example.com"),
        ("see...jane@example.com", "jane@example.com"),
        ("連絡先はjane@example.comです", "jane@example.com"),
        ("Sent to jane@example.com.", "jane@example.com"),
    ],
)
def test_email_span_stops_at_the_address(text, value):
    assert found(text) == [("EMAIL", value)]


@pytest.mark.parametrize(
    "text",
    [
        "Follow @textapi for news.",
        "The decorator @app.get('/x') registers a route.",
        "user@localhost has no domain",
        "a@b.c has a one-letter top-level domain",
        "jane.@example.com ends its local part with a dot",
        "jane@-example.com starts a label with a hyphen",
        "x = a @ b  # matrix product",
    ],
)
def test_email_look_alikes_are_refused(text):
    assert_nothing(text)


# ---------------------------------------------------------------------------------------------------
# Phone numbers


@pytest.mark.parametrize(
    "value",
    [
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "415 555 2671",
        "1-415-555-2671",
        "+1 415 555 2671",
        "+1 (415) 555-2671",
        "+14155552671",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "0044 20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "0161 496 0000",
        "+49 30 12345678",
        "030 12345678",
        "089/1234567",
        "0151 12345678",
        "(030) 1234567",
        "01 23 45 67 89",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+81 3-1234-5678",
        "+91 98765 43210",
    ],
)
def test_phone_numbers_in_international_and_national_formats(value):
    assert_finds(f"Call {value} today.", "PHONE", value)


@pytest.mark.parametrize("text", ["Call 4155552671 now.", "mobile: 07700900123", "Tel 02079460958"])
def test_phone_without_separators_counts_after_a_phone_word(text):
    assert [kind for kind, _ in found(text)] == ["PHONE"]


@pytest.mark.parametrize(
    "text",
    [
        "Order 4155552671 shipped.",  # ten digits, no phone word
        "Dial 123-456-7890 for nothing: area codes never start with 1",
        "Exchange 415-155-2671 starts with 1",
        "N11 area code 411-555-2671",
        "+1 415 555 267 is one digit short",
        "+999 12345678: no such country code",
        "+12 345 678 is a sum",
        "Invoice 05.01.2024 10:30",  # a date and a time
        "Lottery 01 17 22 43 45 51",  # a run of pairs, not a French number
        "ISBN 0-306-40615-2",
        "Range 1200-1350 and 1990-2004",
        "Tracking 9400 1000 0000 0000 0000 00",
        "Code 006733600877",
        "Epoch 1705314600",
    ],
)
def test_phone_look_alikes_are_refused(text):
    assert [kind for kind, _ in found(text) if kind == "PHONE"] == []


@pytest.mark.parametrize(
    "value",
    [
        "415-555-2671 x185",
        "(415) 555-2671 ext. 12",
        "+44 20 7946 0958, extension 4",
        "tel:+14155552671",
        "TEL:020 7946 0958",
        "(+44) 20 7946 0958",
        "(+49) 30 12345678",
    ],
)
def test_phone_span_takes_its_extension_tel_link_and_parenthesised_country_code(value):
    assert found(f"Ring {value} now.") == [("PHONE", value)]


def test_phone_followed_by_other_numbers_is_cut_at_a_group():
    assert found("Call +44 20 7946 0958 24 hours a day") == [("PHONE", "+44 20 7946 0958")]


# ---------------------------------------------------------------------------------------------------
# Payment cards


@pytest.mark.parametrize(
    "value",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5555 5555 5555 4444",
        "2223 0031 2200 3222",
        "3782 822463 10005",
        "378282246310005",
        "3056 930902 5904",
        "6011 1111 1111 1117",
        "3530 1113 3330 0000",
        "6250941006528599",
        "4111 1111 1111 1111 003",
    ],
)
def test_cards_with_a_valid_issuer_length_and_luhn_digit(value):
    assert_finds(f"Card {value} was charged.", "CARD", value)


@pytest.mark.parametrize(
    "text",
    [
        "Card 4111 1111 1111 1112",  # Luhn fails
        "Card 1234 5678 9012 3456",  # no issuer starts with 1
        "Card 4222222222222",  # 13-digit Visa: withdrawn, and the shape of an EAN-13 barcode
        "Card 3782 8224 6310 005",  # Amex digits in the 4-4-4-3 grouping of no card
        "USPS 9400 1111 1111 1111 1111 11",  # the first 16 digits of a longer number
        "ISBN 9783161484100",
        "Code 4111 1111-1111 1111",  # mixed separators
    ],
)
def test_card_look_alikes_are_refused(text):
    assert [kind for kind, _ in found(text) if kind == "CARD"] == []


def test_luhn_and_card_validation():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert card_valid("4111111111111111")
    assert not card_valid("4111111111111111111")  # 19 digits, Luhn fails
    assert not card_valid("5105105105105100" + "0")  # Mastercard has 16 digits


# ---------------------------------------------------------------------------------------------------
# IBAN


@pytest.mark.parametrize(
    "value",
    [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "NO93 8601 1117 947",
        "CH93 0076 2011 6238 5295 7",
    ],
)
def test_iban_of_the_country_length_with_a_valid_checksum(value):
    assert_finds(f"Pay to {value} by Friday.", "IBAN", value)


@pytest.mark.parametrize(
    "text",
    [
        "IBAN DE88 3704 0044 0532 0130 00",  # mod-97 fails
        "IBAN DE89 3704 0044 0532 0130 0",  # one character short for Germany
        "IBAN DE89 3704 0044 0532 0130 0012",  # runs on past Germany's 22
        "IBAN ZZ89 3704 0044 0532 0130 00",  # no such country
        "Part AB12 3456 7890",
    ],
)
def test_iban_look_alikes_are_refused(text):
    assert [kind for kind, _ in found(text) if kind == "IBAN"] == []


def test_iban_followed_by_an_uppercase_word_stops_at_its_length():
    assert found("IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX") == [
        ("IBAN", "DE89 3704 0044 0532 0130 00")
    ]
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB82WEST1234569876543")


# ---------------------------------------------------------------------------------------------------
# IP addresses


@pytest.mark.parametrize(
    "value",
    [
        "192.168.1.20",
        "8.8.8.8",
        "10.0.0.0/8",
        "255.255.255.255",
        "2001:db8::8a2e:370:7334",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "fe80::1ff:fe23:4567:890a",
        "::ffff:192.0.2.128",
        "2a02:1234:5678::/64",
    ],
)
def test_ip_addresses(value):
    assert_finds(f"Traffic from {value} was blocked.", "IP", value)


def test_ipv6_in_brackets_with_a_port():
    assert found("Connect to [2001:db8::1]:8443 now.") == [("IP", "2001:db8::1")]


@pytest.mark.parametrize(
    "text",
    [
        "Octets 256.1.1.1 and 1.2.3.999",
        "Leading zeros 01.02.03.04",
        "Five parts 1.2.3.4.5",
        "Upgrade to version 1.2.3.4 first.",
        "Release 10.0.0.1 is out.",
        "See section 2.3.1.6 of the standard.",
        "Chrome 120.0.6099.109",
        "Python 3.12.1.0 ships today.",
        "Version 10.2.3 fixes what 8.0.0.76 broke.",
        "The meeting is at 12:30:45.",
        "MAC 00:1A:2B:3C:4D:5E",
        "Loopback ::1 and std::vector, a::b",
        "UUID 123e4567-e89b-12d3-a456-426614174000",
    ],
)
def test_ip_look_alikes_are_refused(text):
    assert [kind for kind, _ in found(text) if kind == "IP"] == []


# ---------------------------------------------------------------------------------------------------
# SSN


@pytest.mark.parametrize("value", ["123-45-6789", "078 05 1121", "899-99-9999"])
def test_ssn_grouped(value):
    assert_finds(f"The number {value} is on file.", "SSN", value)


def test_ssn_without_separators_counts_after_ssn_words():
    assert found("SSN: 123456789") == [("SSN", "123456789")]
    assert found("social security number 123456789") == [("SSN", "123456789")]
    assert_nothing("Reference 123456789")


@pytest.mark.parametrize("value", ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000"])
def test_ssn_in_ranges_never_issued_is_refused(value):
    assert_nothing(f"SSN {value}")


def test_ssn_validation():
    assert ssn_valid("123456789")
    assert not ssn_valid("987654321")


# ---------------------------------------------------------------------------------------------------
# URLs carrying credentials or secrets


@pytest.mark.parametrize(
    "url",
    [
        "https://jane:s3cret@db.example.com/reports",
        "postgres://app:Winter2024#@db.example.net:5432/orders",  # an unescaped '#' in the password
        "redis://:p4ss@cache.example.org:6379/0",
        "https://api.example.com/v1?format=csv&api_key=Zx81kQp02LmNvB7",
        "https://example.com/reset?token=abc123def456",
        "https://example.com/cb#access_token=eyJabc.def.ghi&token_type=bearer",
        "https://b.s3.amazonaws.com/f.pdf?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=deadbeef99",
        "https://maps.example.com/api?key=AIzaSyD4x9K2mQ7pL",
        "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        "https://example.com/wiki/Foo_(bar)?password=hunter2!",
    ],
)
def test_urls_with_secrets_are_found_whole(url):
    assert found(f"Open {url}.") == [("URL_SECRET", url)]


@pytest.mark.parametrize(
    "text",
    [
        "See https://example.com/docs?page=2&sort=asc for more.",
        "https://example.com/search?q=token&key=value",
        "https://jane@example.com/profile has a user but no password",
        "https://example.com/item?code=SPRING",
    ],
)
def test_urls_without_secrets_are_not_redacted(text):
    assert [kind for kind, _ in found(text) if kind == "URL_SECRET"] == []


def test_url_secret_wins_over_the_email_like_part_inside_it():
    assert found("https://jane:pw1234@example.com/x") == [("URL_SECRET", "https://jane:pw1234@example.com/x")]


# ---------------------------------------------------------------------------------------------------
# AWS keys and tokens


def test_aws_access_key_ids():
    assert found("key AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A") == [
        ("AWS_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_KEY", "ASIAY34FZKBOKMUTVV7A"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPLE1 is one character too long",
        "xAKIAIOSFODNN7EXAMPLE is inside a word",
        "AKIA is the prefix of access key ids",
        "AIDAJQABLZS4A3QDU576Q is a user id, not a key",
        "AKIAIOSFODNN0EXAMPLE has a 0, not base 32",
    ],
)
def test_aws_key_look_alikes_are_refused(text):
    assert [kind for kind, _ in found(text) if kind == "AWS_KEY"] == []


@pytest.mark.parametrize(
    "text",
    [
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "The secret access key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.",
    ],
)
def test_aws_secret_key_after_the_words_that_name_it(text):
    assert ("AWS_SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") in found(text)


def test_aws_secret_key_after_an_access_key_id():
    text = "AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert found(text) == [
        ("AWS_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the secret key loader",  # lower-case hex
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY without any context",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX",  # 41 characters
    ],
)
def test_forty_character_strings_without_the_shape_or_context_are_not_aws_secrets(text):
    assert [kind for kind, _ in found(text) if kind == "AWS_SECRET"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0", None),
        ("Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543aB", "8f14e45fceea167a5a36dedd4bea2543aB"),
        ("key sk-proj-abc123DEF456ghi789JKL012mno", "sk-proj-abc123DEF456ghi789JKL012mno"),
        ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
        ("bot xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", None),
        ("maps AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ('api_key="a8f9c0d1e2b3a4f5b6c7"', "a8f9c0d1e2b3a4f5b6c7"),
        ("X-API-Key: 5f4dcc3b5aa765d61d8327deb882cf99", "5f4dcc3b5aa765d61d8327deb882cf99"),
        ("password: hunter2!", "hunter2!"),
        ('{"password": "Sunflower2024"}', "Sunflower2024"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        (
            "apikey ta_Q2x9LmP0vB7nR4kW8sD1fH6jY3tZ5cE0aU2iO9pK4gX",
            "ta_Q2x9LmP0vB7nR4kW8sD1fH6jY3tZ5cE0aU2iO9pK4gX",
        ),
    ],
)
def test_tokens_and_assigned_secrets(text, value):
    kinds = found(text)
    assert [kind for kind, _ in kinds] == ["TOKEN"], kinds
    if value is not None:
        assert kinds[0][1] == value


def test_pem_private_key_block_is_one_token():
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc+/=\n-----END RSA PRIVATE KEY-----"
    assert found(f"Key:\n{block}\nend") == [("TOKEN", block)]
    truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nMIIEowIBAAKCAQEA7"
    assert found(f"{truncated}\n\n(cut)") == [("TOKEN", truncated)]


@pytest.mark.parametrize(
    "text",
    [
        "He was the bearer of bad news.",
        "Use `Bearer <token>` in the Authorization header.",
        "The sk-learn-compatible-estimator wrapper",
        "Password: required. Token: optional. Secret: none.",
        "password = ********",
        "token: see the appendix",
        "Rotate the API key every 90 days.",
    ],
)
def test_token_look_alikes_are_refused(text):
    assert_nothing(text)


# ---------------------------------------------------------------------------------------------------
# Overlaps and adversarial inputs


def test_overlapping_spans_longest_wins_and_a_partial_overlap_widens_the_winner():
    assert resolve([PiiSpan(0, 10, PiiType.EMAIL), PiiSpan(2, 5, PiiType.PHONE)]) == [
        PiiSpan(0, 10, PiiType.EMAIL)
    ]
    assert resolve([PiiSpan(0, 5, PiiType.PHONE), PiiSpan(0, 5, PiiType.CARD)]) == [
        PiiSpan(0, 5, PiiType.CARD)
    ]
    assert resolve([PiiSpan(0, 10, PiiType.ADDRESS), PiiSpan(8, 12, PiiType.NAME)]) == [
        PiiSpan(0, 12, PiiType.ADDRESS)
    ]
    assert resolve([PiiSpan(5, 9, PiiType.IP), PiiSpan(0, 2, PiiType.NAME), PiiSpan(3, 3, PiiType.NAME)]) == [
        PiiSpan(0, 2, PiiType.NAME),
        PiiSpan(5, 9, PiiType.IP),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "1" * 10_000,
        "1 " * 5_000,
        "1." * 5_000,
        "01 " * 3_333,
        "0" * 10_000,
        "@" * 10_000,
        "a@" * 5_000,
        ("a" * 70 + "@") * 140,
        "a." * 4_999 + "@b",
        "[" * 10_000,
        ":" * 10_000,
        "a:" * 5_000,
        "http://" * 1_400,
        "http://a" + "b" * 10_000,
        "+1 " * 3_333,
        "4111 " * 2_000,
        "AKIA" * 2_500,
        "sk-" * 3_333,
        "Bearer " * 1_400,
        "eyJ." * 2_500,
        "-----BEGIN PRIVATE KEY-----" * 370,
        "token=" * 1_666,
        "password: " * 1_000,
        "aws_secret_access_key " * 450,
        "DE89 " * 2_000,
        "1.1.1.1." * 1_250,
        "(" * 10_000,
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_adversarial_inputs_hold_no_false_detections(text):
    assert detect(text) == []


@pytest.mark.parametrize(("value", "kind"), [("415-555-2671", "PHONE"), ("4111-1111-1111-1111", "CARD")])
def test_many_real_values_in_a_row_are_each_found(value, kind):
    text = f"{value} " * (10_000 // (len(value) + 1))
    assert found(text) == [(kind, value)] * (10_000 // (len(value) + 1))
