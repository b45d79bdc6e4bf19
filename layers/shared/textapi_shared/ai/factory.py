"""Chooses the provider from settings: `AI_PROVIDER=auto|gemini|local` (auto: Gemini with a key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textapi_shared.ai.provider import AIProvider
    from textapi_shared.config import SharedSettings


def build_provider(settings: SharedSettings) -> AIProvider:
    """The provider object; no SDK is imported and no key is read until its first call."""
    use_gemini = settings.ai_provider == "gemini" or (
        settings.ai_provider == "auto" and settings.gemini_configured
    )
    if not use_gemini:
        from textapi_shared.ai.local_provider import LocalProvider

        return LocalProvider()

    from textapi_shared.ai.gemini_provider import GeminiProvider

    def api_key() -> str:
        if settings.gemini_api_key:
            return settings.gemini_api_key
        from textapi_shared.aws import read_secure_parameter

        return read_secure_parameter(settings, settings.gemini_api_key_ssm_parameter)

    return GeminiProvider(
        model=settings.ai_model,
        api_key=api_key,
        base_url=settings.gemini_base_url,
        api_version=settings.gemini_api_version,
        timeout_s=settings.ai_timeout_seconds,
    )
