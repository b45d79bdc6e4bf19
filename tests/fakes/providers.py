"""AI providers for tests that need the provider itself to misbehave in a way no HTTP fake can show."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textapi_shared.ai.provider import AIRequest, AIResponse


class BrokenProvider:
    """Raises an unexpected exception (a bug, not an upstream failure) on every call."""

    name = "broken"
    model = "broken-1"

    async def generate(self, request: AIRequest) -> AIResponse:
        raise RuntimeError("the secret cause")
