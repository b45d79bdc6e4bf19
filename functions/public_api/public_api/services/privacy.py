"""PII redaction for a text operation (SPEC §13): which requests are redacted, the redacted request the
cache, the guard and the AI see, and the answer with the originals put back.

A request is redacted when its key's `pii` is `redact` (else `PII_MODE`), or when it asks with
`options.pii: "redact"`; a request can add redaction, never take it away from its key. The redacted
request is what everything downstream sees: the cache key is built from its text (with the mode), so a
stored answer holds placeholders and any request of the same shape is served it, restored with its own
values. Redaction is deterministic, so a replayed request (an `Idempotency-Key`) redacts to the same
placeholders and its stored answer can be restored again. Names and addresses are found only with
`PII_DETECTOR=comprehend`; when Comprehend cannot be reached the request fails (503) rather than send
them on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

from public_api.schemas import TextProcessingResponse
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.privacy.redaction import redact_all, restore_value

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.responses import Response

    from public_api.config import PublicApiSettings
    from public_api.schemas import TextProcessingRequest
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.privacy.comprehend import ComprehendPiiDetector
    from textapi_shared.privacy.redaction import Redaction

REDACT = "redact"
# The answer's fields that carry the model's words (and so may carry placeholders).
OUTPUT_FIELDS = ("result", "sentiment", "key_points", "questions")


class Redacted(NamedTuple):
    """A request as the cache, the guard and the AI see it, and what restores its answer."""

    request: TextProcessingRequest
    redaction: Redaction


class Privacy:
    def __init__(
        self,
        settings: PublicApiSettings,
        observability: Observability,
        *,
        names: ComprehendPiiDetector | None = None,
    ) -> None:
        self._default = settings.pii_mode
        self._obs = observability
        self._names = names

    def applies(self, request: TextProcessingRequest, key_mode: str | None) -> bool:
        """Whether `request` is redacted, by a key whose own mode is `key_mode` (None: PII_MODE)."""
        if request.options is not None and request.options.pii == REDACT:
            return True
        return (key_mode if key_mode is not None else self._default) == REDACT

    async def redact(self, request: TextProcessingRequest) -> Redacted:
        """The request with its PII replaced by placeholders (the text and the question, one numbering)."""
        texts = [request.text, request.question] if request.question else [request.text]
        extra = []
        if self._names is not None:
            from textapi_shared.privacy.comprehend import PiiDetectionError, PiiDetectionUnavailableError

            language = request.options.language if request.options is not None else None
            try:
                extra = await self._names.detect_all(texts, language)
            except (PiiDetectionUnavailableError, PiiDetectionError) as exc:
                # The caller gets the error shape; why (throttled, unreachable, access denied) is the log's.
                log = (
                    self._obs.logger.error if isinstance(exc, PiiDetectionError) else self._obs.logger.warning
                )
                log(
                    "personal data detection failed",
                    extra={"reason": exc.reason, "error_code": exc.error_code},
                )
                raise
        redaction = redact_all(texts, extra_spans=extra)
        changes = {"text": redaction.texts[0]}
        if request.question:
            changes["question"] = redaction.texts[1]
        return Redacted(request.model_copy(update=changes), redaction)

    def marked(self, response: TextProcessingResponse, redaction: Redaction) -> TextProcessingResponse:
        """`response` (still with placeholders) saying what was redacted: `metadata.pii_redacted`."""
        metadata = {**response.metadata, "pii_redacted": dict(redaction.counts)}
        return response.model_copy(update={"metadata": metadata})

    def restored(self, response: TextProcessingResponse, redaction: Redaction) -> TextProcessingResponse:
        """`response` with the originals back in every output field. Placeholders the model dropped or
        made up are counted (the answer is still served, restored as far as it can be)."""
        written = response.model_dump(include=set(OUTPUT_FIELDS), exclude_none=True)
        back = restore_value(written, redaction)
        if back.lost:
            self._obs.count_for(response.operation, MetricName.PII_PLACEHOLDERS_LOST, back.lost)
        if back.invented:
            self._obs.count_for(response.operation, MetricName.PII_PLACEHOLDERS_INVENTED, back.invented)
        return response.model_validate({**response.model_dump(), **back.value})


class KeptAnswers:
    """The idempotency `Sealing` of a process or batch route: the record keeps the answers as the cache
    does (placeholders), and a replay redacts the same request again (deterministic) to restore them.
    Which answers to restore is read from the record (`metadata.pii_redacted`), not from the key's mode
    now: a key whose `pii` changed since still gets its first answer back as it was sent."""

    def __init__(self, privacy: Privacy, requests: Sequence[TextProcessingRequest]) -> None:
        self._privacy = privacy
        self._requests = requests
        self.kept: bytes | None = None  # the body to keep, when it differs from the one sent

    def conceal(self, response: Response) -> bytes:
        return self.kept if self.kept is not None else bytes(response.body)

    async def reveal(self, body: bytes) -> bytes:
        payload = json.loads(body)
        if "results" in payload:  # a batch: each item's answer by its index
            answers = [(r["request_index"], r["response"]) for r in payload["results"] if r.get("response")]
        else:
            answers = [(0, payload)]
        for index, answer in answers:
            if "pii_redacted" not in (answer.get("metadata") or {}):
                continue  # not redacted: kept as it was sent
            redacted = await self._privacy.redact(self._requests[index])
            kept = TextProcessingResponse.model_validate(answer)
            answer.update(self._privacy.restored(kept, redacted.redaction).model_dump(mode="json"))
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
