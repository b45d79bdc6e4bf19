"""The offline provider: the five operations with classical NLP, no network, no model download.

It answers in the Gemini provider's format (plain text for summarize and qa, JSON text for the
structured operations) so one parser serves both. The work is CPU-bound and takes milliseconds even for
the largest allowed text, so it runs inline rather than in a thread.
"""

from __future__ import annotations

import json
import math
from typing import Any

from textapi_shared.ai.provider import AIRequest, AIResponse, Operation
from textapi_shared.errors import InputValidationError

DEFAULT_MAX_LENGTH = 100
DEFAULT_MAX_POINTS = 5
DEFAULT_NUM_QUESTIONS = 5


class LocalProvider:
    """Extractive summaries, VADER sentiment, key sentences, template questions and extractive QA.

    Uses `request.text`, `request.question` and `request.options`; the prompt and system instruction
    are for language models and are ignored. Deterministic: the same request gives the same answer.
    """

    name = "local"
    model = "local-extractive-v1"

    async def generate(self, request: AIRequest) -> AIResponse:
        text = self.answer(request)
        # Its own estimate of what a model would count (about four characters a token); priced at 0.
        prompt = len(request.system_instruction) + len(request.prompt)
        return AIResponse(
            text=text,
            provider=self.name,
            model=self.model,
            prompt_tokens=math.ceil(prompt / 4),
            output_tokens=math.ceil(len(text) / 4),
        )

    def answer(self, request: AIRequest) -> str:
        """The answer text for `request`, computed synchronously."""
        # The analysis modules load on the first request, not at cold start (~7 ms of imports).
        from textapi_shared.ai.question_answering import answer_question
        from textapi_shared.ai.question_generation import generate_questions
        from textapi_shared.ai.sentiment_analysis import analyse_sentiment
        from textapi_shared.ai.text_analysis import key_points, summarize

        text, options = request.text, request.options or {}
        if request.operation == Operation.SUMMARIZE:
            return summarize(text, _option(options, "max_length", DEFAULT_MAX_LENGTH))
        if request.operation == Operation.SENTIMENT:
            return _json(analyse_sentiment(text))
        if request.operation == Operation.KEY_POINTS:
            return _json({"key_points": key_points(text, _option(options, "max_points", DEFAULT_MAX_POINTS))})
        if request.operation == Operation.QUESTIONS:
            count = _option(options, "num_questions", DEFAULT_NUM_QUESTIONS)
            return _json({"questions": generate_questions(text, count)})
        if request.operation == Operation.QA:
            if not request.question or not request.question.strip():
                raise InputValidationError("A question is required for the qa operation.")
            return answer_question(text, request.question)
        raise InputValidationError(f"Unsupported operation: {request.operation}")


def _option(options: dict[str, Any], name: str, default: int) -> int:
    value = options.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return max(1, int(value))


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)
