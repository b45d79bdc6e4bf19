"""The provider protocol every AI backend implements, and the values that cross it.

The domain service builds an `AIRequest` (system instruction, prompt with the user text as delimited
data, an optional JSON schema for structured output); a provider answers with the raw model text.
Structured operations answer JSON text matching `response_schema`, so one parser serves every provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol


class Operation(StrEnum):
    SUMMARIZE = "summarize"
    SENTIMENT = "sentiment"
    KEY_POINTS = "key_points"
    QUESTIONS = "questions"
    QA = "qa"


@dataclass(frozen=True)
class AIRequest:
    operation: Operation
    system_instruction: str
    prompt: str
    text: str
    question: str | None = None
    options: dict[str, int] = field(default_factory=dict)
    response_schema: dict[str, Any] | None = None
    temperature: float = 0.3
    timeout_s: float = 25.0
    # The invocation's deadline (monotonic seconds): retries and waits never go past it.
    deadline_at: float | None = None
    # The model to ask (a fallback model); None: the provider's own. `AIResponse.model` says which answered.
    model: str | None = None
    # The most output tokens the call may produce, thinking included (Gemini bills thinking as output).
    max_output_tokens: int | None = None

    def token_estimate(self) -> int:
        """An upper bound on the tokens the call bills: every byte of the prompt as a token (no tokenizer
        makes fewer than one byte a token) and the output's maximum."""
        prompt = len(self.system_instruction.encode()) + len(self.prompt.encode())
        return prompt + (self.max_output_tokens or 0)


class AIResponse(NamedTuple):
    text: str
    provider: str
    model: str
    prompt_tokens: int | None = None
    output_tokens: int | None = None  # thinking included: it is billed as output


class AIProvider(Protocol):
    """An AI backend. `generate` raises only `textapi_shared.errors` classes (see ai/errors.py)."""

    name: str
    model: str

    async def generate(self, request: AIRequest) -> AIResponse: ...
