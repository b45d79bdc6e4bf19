"""Gemini through google-genai's async client.

The SDK costs ~0.5 s to import, so it is imported when the first request needs it, and the client
is built once per execution environment. The SDK's own retries are off: retrying belongs to the
resilience layer at this seam. Every failure leaves as one of our error classes:
transient (429, 5xx, timeouts, transport) → `AIUnavailableError` (`AIUnreachableError` when no
connection could be made); other 4xx → `AIServiceError`;
a safety block → `ContentBlockedError`; malformed or empty output → `AIInvalidOutputError`.
"""

from __future__ import annotations

import asyncio
import json
import math
import weakref
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.ai.provider import AIRequest, AIResponse
from textapi_shared.errors import (
    AIInvalidOutputError,
    AIServiceError,
    AIUnavailableError,
    AIUnreachableError,
    ContentBlockedError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

_TRANSIENT_STATUS = frozenset({408, 429})
_DEFAULT_RETRY_AFTER_S = 5


class _TransportErrors(NamedTuple):
    unreachable: tuple[type[BaseException], ...]  # no connection was made
    timeouts: tuple[type[BaseException], ...]
    every: tuple[type[BaseException], ...]  # the two above and connections lost on the way


@cache
def _transport_errors() -> _TransportErrors:
    """The transport errors of whichever HTTP client the SDK runs on (httpx or httpx2), by kind."""
    unreachable: list[type[BaseException]] = [ConnectionRefusedError]
    timeouts: list[type[BaseException]] = [TimeoutError]
    every: list[type[BaseException]] = [TimeoutError, ConnectionError]
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        unreachable.append(module.ConnectError)
        timeouts.append(module.TimeoutException)
        every.append(module.TransportError)
    return _TransportErrors(tuple(unreachable), tuple(timeouts), tuple(every))


def _transport_failure(exc: BaseException) -> AIUnavailableError:
    """What a transport error tells the caller. A refused connection fails at once: it must not read as
    a timeout, and it is retried after a short wait only (`AIUnreachableError`)."""
    kinds = _transport_errors()
    if isinstance(exc, kinds.unreachable):
        return AIUnreachableError(retry_after=2)
    if isinstance(exc, kinds.timeouts):
        return AIUnavailableError("The AI service did not answer in time.", retry_after=2)
    return AIUnavailableError("The connection to the AI service failed.", retry_after=2)


def _retry_after(exc: Any) -> int:
    response = getattr(exc, "response", None)
    header = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return max(1, math.ceil(float(header))) if header else _DEFAULT_RETRY_AFTER_S
    except ValueError:
        return _DEFAULT_RETRY_AFTER_S


class GeminiProvider:
    name = "gemini"

    def __init__(
        self,
        *,
        model: str,
        api_key: Callable[[], str],
        base_url: str | None = None,
        api_version: str = "v1beta",
        timeout_s: float = 25.0,
    ) -> None:
        self.model = model
        self._api_key = api_key
        self._base_url = base_url
        self._api_version = api_version
        self._timeout_s = timeout_s
        # One client per event loop: its pooled connections belong to the loop that opened them.
        # Lambda reuses one loop for the life of the execution environment, so this is one client.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def _new_client(self) -> Any:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self._base_url,
            api_version=self._api_version,
            timeout=int(self._timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        return genai.Client(api_key=self._api_key(), http_options=options).aio

    async def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # The first build imports the SDK and may read the key from SSM: keep it off the loop.
            client = self._clients[loop] = await asyncio.to_thread(self._new_client)
        return client

    async def generate(self, request: AIRequest) -> AIResponse:
        from google.genai import errors, types

        structured = request.response_schema is not None
        config = types.GenerateContentConfig(
            system_instruction=request.system_instruction,
            temperature=request.temperature,
            response_mime_type="application/json" if structured else None,
            response_schema=request.response_schema,
            max_output_tokens=request.max_output_tokens,
        )
        client = await self._client()
        model = request.model or self.model
        try:
            response = await asyncio.wait_for(
                client.models.generate_content(model=model, contents=request.prompt, config=config),
                timeout=min(self._timeout_s, request.timeout_s),
            )
        except errors.APIError as exc:
            code = int(getattr(exc, "code", 0) or 0)
            if code >= 500 or code in _TRANSIENT_STATUS:
                raise AIUnavailableError(
                    retry_after=_retry_after(exc), details={"upstream_status": code}
                ) from exc
            raise AIServiceError(
                "The AI service rejected the request.", details={"upstream_status": code}
            ) from exc
        except json.JSONDecodeError as exc:
            raise AIInvalidOutputError("The AI service returned a malformed response.") from exc
        except _transport_errors().every as exc:
            raise _transport_failure(exc) from exc
        return self._to_response(response, model)

    def _to_response(self, response: Any, model: str) -> AIResponse:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and feedback.block_reason:
            raise ContentBlockedError(details={"reason": str(feedback.block_reason.value)})
        candidates = response.candidates or []
        if candidates and str(getattr(candidates[0].finish_reason, "value", "")) in (
            "SAFETY",
            "PROHIBITED_CONTENT",
        ):
            raise ContentBlockedError(details={"reason": str(candidates[0].finish_reason.value)})
        text = response.text
        if not text or not text.strip():
            raise AIInvalidOutputError("The AI service returned an empty response.")
        usage = response.usage_metadata
        output = getattr(usage, "candidates_token_count", None)
        thoughts = getattr(usage, "thoughts_token_count", None)
        return AIResponse(
            text=text,
            provider=self.name,
            model=model,
            prompt_tokens=getattr(usage, "prompt_token_count", None),
            output_tokens=None if output is None and thoughts is None else (output or 0) + (thoughts or 0),
        )
