"""Names and addresses through Amazon Comprehend `DetectPiiEntities` (``PII_DETECTOR=comprehend``).

The pattern detectors cannot tell a name or an address from other words; Comprehend's entity model
can. Only its ``NAME`` and ``ADDRESS`` entities are kept (the pattern detectors validate the other
kinds, with checksums Comprehend does not apply), at `min_score` or above.

- Language: Comprehend detects PII in English (``en``) and Spanish (``es``). A request's language tag
  ("es", "es-MX", "EN_us") picks one of those; any other language, or none, is sent as ``en``: the
  English model still finds many names in other Latin-script languages (not measured), and sending
  the text unredacted would be the worse failure.
- Size: one request holds at most `MAX_TEXT_BYTES` of UTF-8. Longer texts are cut at a line break or
  a space near the limit, and short texts of one request (the text and the question) share one call,
  separated by a blank line; entity offsets (characters) are mapped back to each text.
- Errors: throttling, 5xx, timeouts and connection failures raise `PiiDetectionUnavailableError` (503,
  retry later) after the client's own retry; anything else (access denied, an invalid request) raises
  `PiiDetectionError` (500). Either way nothing is sent to the model: a caller that cannot detect
  names must not pass them on. The client's timeouts and retries are those of `textapi_shared.aws`.
- The call is blocking boto3; `detect` and `detect_all` run it in a worker thread, which also builds
  the client the first time (boto3 is imported there, never at import of this module).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.errors import InternalError, ServiceUnavailableError
from textapi_shared.privacy.entities import PiiSpan, PiiType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textapi_shared.config import SharedSettings

# DetectPiiEntities accepts at most 100 KB of UTF-8 text per request.
MAX_TEXT_BYTES = 100_000
LANGUAGES = ("en", "es")
_KEPT = {"NAME": PiiType.NAME, "ADDRESS": PiiType.ADDRESS}
_SEPARATOR = "\n\n"
# Error codes worth retrying later: throttling and the service's own failures.
_TRANSIENT = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "ThrottledException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class PiiDetectionUnavailableError(ServiceUnavailableError):
    """Comprehend cannot be used right now (throttled, failing, unreachable); `reason` is for the log."""

    default_message = "Personal data detection is temporarily unavailable; retry later."

    def __init__(self, reason: str, *, retry_after: int = 2) -> None:
        super().__init__(retry_after=retry_after)
        self.reason = reason


class PiiDetectionError(InternalError):
    """Comprehend refused the call for good (access denied, invalid request); `reason` is for the log."""

    default_message = "Personal data detection failed."

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def comprehend_language(language: str | None) -> str:
    """The `LanguageCode` to send for a request's language tag (see the module)."""
    primary = (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else "en"


class _Piece(NamedTuple):
    text_index: int
    offset: int  # where the piece starts in its text
    position: int  # where the piece starts in the request's text
    length: int


class ComprehendPiiDetector:
    """Names and addresses in texts, found by Comprehend. `client` is a boto3 Comprehend client (tests
    pass one pointed at a fake); without it, the execution environment's from `aws_client`."""

    def __init__(
        self,
        settings: SharedSettings | None = None,
        *,
        client: Any | None = None,
        min_score: float = 0.5,
        max_bytes: int = MAX_TEXT_BYTES,
    ) -> None:
        if settings is None and client is None:
            raise ValueError("ComprehendPiiDetector needs settings or a client")
        self._settings = settings
        self._client = client
        self.min_score = min_score
        self.max_bytes = max_bytes

    async def detect(self, text: str, language: str | None = None) -> list[PiiSpan]:
        """The NAME and ADDRESS spans in `text`."""
        return (await self.detect_all([text], language))[0]

    async def detect_all(self, texts: Sequence[str], language: str | None = None) -> list[list[PiiSpan]]:
        """The NAME and ADDRESS spans in each text (one list per text, in order), in as few calls as
        the size limit allows."""
        return await asyncio.to_thread(self.detect_all_blocking, texts, language)

    def detect_all_blocking(self, texts: Sequence[str], language: str | None = None) -> list[list[PiiSpan]]:
        """`detect_all` in the calling thread."""
        found: list[list[PiiSpan]] = [[] for _ in texts]
        code = comprehend_language(language)
        for request_text, pieces in _requests(texts, self.max_bytes):
            for entity in self._call(request_text, code):
                kind = _KEPT.get(entity.get("Type", ""))
                if kind is None or entity.get("Score", 0.0) < self.min_score:
                    continue
                begin, end = entity["BeginOffset"], entity["EndOffset"]
                for piece in pieces:  # an entity over a piece boundary is cut in two
                    low = max(begin, piece.position)
                    high = min(end, piece.position + piece.length)
                    if low < high:
                        shift = piece.offset - piece.position
                        found[piece.text_index].append(PiiSpan(low + shift, high + shift, kind))
        return [sorted(set(spans)) for spans in found]

    def _call(self, text: str, language: str) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = self._client
            if client is None:
                from textapi_shared.aws import aws_client

                client = self._client = aws_client(self._settings, "comprehend")
            return client.detect_pii_entities(Text=text, LanguageCode=language).get("Entities", [])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code") or "Unknown"
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if code in _TRANSIENT or status >= 500:
                raise PiiDetectionUnavailableError(code) from exc
            raise PiiDetectionError(code) from exc
        except BotoCoreError as exc:  # connection refused, timeouts: the client already retried
            raise PiiDetectionUnavailableError(type(exc).__name__) from exc


def _requests(texts: Sequence[str], max_bytes: int) -> list[tuple[str, list[_Piece]]]:
    """The request texts for `texts`: each cut into pieces of at most `max_bytes` (UTF-8), the pieces
    packed in order into requests of at most `max_bytes`; blank pieces are not sent."""
    separator_bytes = len(_SEPARATOR.encode())
    requests: list[tuple[str, list[_Piece]]] = []
    parts: list[str] = []
    pieces: list[_Piece] = []
    size = position = 0
    for index, text in enumerate(texts):
        for offset, piece in _split(text, max_bytes):
            if not piece.strip():
                continue
            piece_bytes = len(piece.encode())
            if parts and size + separator_bytes + piece_bytes > max_bytes:
                requests.append(("".join(parts), pieces))
                parts, pieces, size, position = [], [], 0, 0
            if parts:
                parts.append(_SEPARATOR)
                size += separator_bytes
                position += len(_SEPARATOR)
            pieces.append(_Piece(index, offset, position, len(piece)))
            parts.append(piece)
            size += piece_bytes
            position += len(piece)
    if parts:
        requests.append(("".join(parts), pieces))
    return requests


def _split(text: str, max_bytes: int) -> list[tuple[int, str]]:
    """`text` in (offset, piece) pieces of at most `max_bytes` of UTF-8, cut after the last line
    break in the second half of the allowance, else after the last space or tab, else anywhere (one
    token longer than the allowance)."""
    pieces = []
    start = 0
    while len(text[start:].encode()) > max_bytes:
        end = _fit(text, start, max_bytes)
        middle = start + (end - start) // 2
        cut = (
            text.rfind("\n", middle, end) + 1
            or max(text.rfind(" ", start, end), text.rfind("\t", start, end)) + 1
        )
        if cut <= start:
            cut = end
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces


def _fit(text: str, start: int, max_bytes: int) -> int:
    """The largest `end` with `text[start:end]` at most `max_bytes` of UTF-8 (a character is 1-4)."""
    low, high = start + 1, min(len(text), start + max_bytes)
    while low < high:
        middle = (low + high + 1) // 2
        if len(text[start:middle].encode()) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return low
