"""Request and response models of the public API."""

from itertools import islice
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from public_api.text_hygiene import first_control_character, has_visible_characters
from textapi_shared.monitoring.health import HealthState


class HealthResponse(BaseModel):
    """Public health: cheap (recomputed every few seconds at most) and says nothing about internals."""

    status: HealthState
    timestamp: str
    version: str


class AuthStatusResponse(BaseModel):
    authenticated: bool
    api_key_prefix: str | None
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


# -- text processing --------------------------------------------------------------------------

TextOperation = Literal["summarize", "sentiment", "key_points", "questions", "qa"]
# A hard ceiling on what is even parsed; MAX_TEXT_LENGTH and MAX_QUESTION_LENGTH are checked by the
# service (they are configuration).
TEXT_CEILING = 100_000
MIN_TEXT_CHARS = 10

OPTION_FIELDS: dict[str, dict[str, tuple[int, int, int]]] = {
    # operation → option → (default, minimum, maximum)
    "summarize": {"max_length": (100, 10, 500)},
    "sentiment": {},
    "key_points": {"max_points": (5, 1, 20)},
    "questions": {"num_questions": (5, 1, 20)},
    "qa": {},
}
# Options every operation takes: they change how the text is handled, not the answer asked for.
COMMON_OPTIONS = ("pii", "language")


def _check_controls(value: str, field: str) -> None:
    index = first_control_character(value)
    if index is not None:
        raise PydanticCustomError(
            "control_character",
            "{field} must not contain control characters other than tab, newline and carriage return "
            "(found {code} at character {index})",
            # Pydantic fills a template by name only (no format spec): the code point is written here.
            {"field": field, "code": f"U+{ord(value[index]):04X}", "index": index},
        )


class ClosedModel(BaseModel):
    """A request object whose unknown names are 422 naming them. More names than it has fields are one
    error, counted before each name is checked: 100,000 unknown names make one error, not 100,000."""

    model_config = ConfigDict(extra="forbid")
    # The error type and how its message calls the object.
    too_many: ClassVar[tuple[str, str]] = ("too_many_fields", "a request")

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        fields = cls.model_fields
        if isinstance(data, dict) and len(data) > len(fields):
            kind, what = cls.too_many
            unknown = islice((name for name in data if name not in fields), _NAMED_UNKNOWN)
            raise PydanticCustomError(
                kind,
                "{what} takes at most {most} names ({names}); this one has {count} (unknown: {unknown}, ...)",
                {
                    "what": what,
                    "most": len(fields),
                    "names": ", ".join(fields),
                    "count": len(data),
                    "unknown": ", ".join(str(name)[:_NAME_CHARS] for name in unknown),
                },
            )
        return data


_NAMED_UNKNOWN = 3
_NAME_CHARS = 40  # a name can be a client's dictionary key of any length


class ProcessingOptions(ClosedModel):
    """Per-operation options; each applies to one operation only."""

    too_many = ("too_many_options", "options")

    max_length: int | None = Field(None, ge=10, le=500, strict=True, description="summarize: words, 10–500")
    max_points: int | None = Field(None, ge=1, le=20, strict=True, description="key_points: 1–20")
    num_questions: int | None = Field(None, ge=1, le=20, strict=True, description="questions: 1–20")
    pii: Literal["redact"] | None = Field(
        None,
        description="every operation: `redact` replaces personal data by placeholders before the AI sees "
        "the text and puts it back in the answer (as a key whose `pii` is `redact` always does)",
    )
    language: str | None = Field(
        None,
        pattern=r"^[a-z]{2}(-[A-Z]{2})?$",
        description="every operation: the text's language (ISO 639-1, e.g. `en`, `de`), for name and "
        "address detection when PII_DETECTOR=comprehend; default `en`",
    )


class TextProcessingRequest(ClosedModel):
    # An unknown field is 422 naming it: a misspelt `options` or `question` must not run with the defaults.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Serverless functions scale to zero when idle and start on demand.",
                    "operation": "summarize",
                    "options": {"max_length": 30},
                },
            ]
        },
    )

    text: str = Field(
        ...,
        min_length=MIN_TEXT_CHARS,
        max_length=TEXT_CEILING,
        description="10 to MAX_TEXT_LENGTH characters after trimming, at least 10 of them visible; no "
        "control characters besides tab, newline and carriage return",
    )
    operation: TextOperation
    question: str | None = Field(
        None,
        max_length=TEXT_CEILING,
        validate_default=True,
        description="Required (non-empty) for qa, null or absent for the other operations; at most "
        "MAX_QUESTION_LENGTH characters",
    )
    options: ProcessingOptions | None = None
    # The original backend's request model had this field and its clients send their `model_dump()`.
    user_metadata: dict[str, Any] | None = Field(
        None, exclude=True, description="Accepted for clients of the original API and ignored"
    )

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        _check_controls(value, "text")
        stripped = value.strip()
        if not has_visible_characters(stripped, MIN_TEXT_CHARS):
            raise PydanticCustomError(
                "text_too_short",
                "text must contain at least {minimum} visible characters",
                {"minimum": MIN_TEXT_CHARS},
            )
        return stripped

    @field_validator("question")
    @classmethod
    def _question(cls, value: str | None, info: ValidationInfo) -> str | None:
        operation = info.data.get("operation")
        if operation != "qa":
            if value is not None and operation is not None:  # null stays accepted everywhere
                raise PydanticCustomError(
                    "question_not_applicable",
                    "question is not valid for {operation} (only qa takes one)",
                    {"operation": operation},
                )
            return None
        if value is not None:
            _check_controls(value, "question")
        if value is None or not has_visible_characters(value, 1):
            raise PydanticCustomError(
                "question_required", "question is required and non-empty for the qa operation"
            )
        return value.strip()

    @field_validator("options")
    @classmethod
    def _options(cls, value: ProcessingOptions | None, info: ValidationInfo) -> ProcessingOptions | None:
        operation = info.data.get("operation")
        if value is None or operation is None:
            return value
        allowed = (*OPTION_FIELDS[operation], *COMMON_OPTIONS)
        foreign = sorted(name for name in value.model_fields_set if name not in allowed)
        if foreign:
            accepted = ", ".join(allowed)
            raise PydanticCustomError(
                "option_not_applicable",
                "{options} not valid for {operation} (accepted: {accepted})",
                {"options": ", ".join(foreign), "operation": operation, "accepted": accepted},
            )
        return value

    def resolved_options(self) -> dict[str, int]:
        """The operation's options with defaults filled in: the canonical form that keys the cache."""
        given = self.options.model_dump(exclude_none=True) if self.options else {}
        return {
            name: given.get(name, default) for name, (default, _, _) in OPTION_FIELDS[self.operation].items()
        }


class SentimentResult(BaseModel):
    sentiment: Literal["positive", "negative", "neutral", "mixed"]
    confidence: float = Field(ge=0.0, le=1.0)
    explanation: str


class TextProcessingResponse(BaseModel):
    operation: TextOperation
    success: bool = True
    result: str | None = None
    sentiment: SentimentResult | None = None
    key_points: list[str] | None = None
    questions: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    processing_time: float
    timestamp: str
    cache_hit: bool = False


# As for an item, an unknown field (a misspelt `batch_id` or `callback_url`) is 422 naming it; the original
# backend's batch model had no `user_metadata`, so nothing else is allowed here.
class BatchTextProcessingRequest(ClosedModel):
    # The configured count limits (MAX_BATCH_REQUESTS_PER_CALL, RATE_LIMIT_PER_MINUTE) are checked
    # before any item is validated, by the route's `check_batch_size` dependency.
    requests: list[TextProcessingRequest] = Field(
        ..., min_length=1, description="1 to MAX_BATCH_REQUESTS_PER_CALL requests (default 50)"
    )
    batch_id: str | None = Field(None, max_length=100)


class BatchItemResult(BaseModel):
    request_index: int
    status: Literal["completed", "failed"]
    response: TextProcessingResponse | None = None
    error: str | None = None
    error_code: str | None = None


class BatchTextProcessingResponse(BaseModel):
    batch_id: str
    total_requests: int
    completed: int
    failed: int
    results: list[BatchItemResult]
    total_processing_time: float
    timestamp: str


class OperationInfo(BaseModel):
    id: TextOperation
    name: str
    description: str
    options: list[str]
    requires_question: bool = False


class OperationsResponse(BaseModel):
    operations: list[OperationInfo]
