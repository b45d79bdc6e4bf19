"""What a PII detector reports: a type and where it is in the text."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class PiiType(StrEnum):
    """The kinds of personal data redacted. Each value is the placeholder prefix (`[EMAIL_1]`) and the
    key in `metadata.pii_redacted`; the names are part of the API and stay stable."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    IBAN = "IBAN"
    IP = "IP"
    SSN = "SSN"
    URL_SECRET = "URL_SECRET"  # noqa: S105 (a type name, not a secret)
    AWS_KEY = "AWS_KEY"
    AWS_SECRET = "AWS_SECRET"  # noqa: S105
    TOKEN = "TOKEN"  # noqa: S105
    # Found by Amazon Comprehend only (PII_DETECTOR=comprehend): entity recognition, not patterns.
    NAME = "NAME"
    ADDRESS = "ADDRESS"


# The kinds the pattern detectors find, each validated (checksums, ranges, lengths, context).
STRUCTURED_TYPES = frozenset(PiiType) - {PiiType.NAME, PiiType.ADDRESS}


class PiiSpan(NamedTuple):
    """`text[start:end]` is personal data of `type`."""

    start: int
    end: int
    type: PiiType
