"""Chooses the provider from settings: `AI_PROVIDER=auto|gemini|local` (auto: Gemini with a key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textapi_shared.config import require_installed
from textapi_shared.errors import ConfigurationError

if TYPE_CHECKING:
    from textapi_shared.ai.provider import AIProvider
    from textapi_shared.aws import SecureParameters
    from textapi_shared.config import SharedSettings


def uses_gemini(settings: SharedSettings) -> bool:
    return settings.ai_provider == "gemini" or (settings.ai_provider == "auto" and settings.gemini_configured)


def gemini_api_key(settings: SharedSettings, secrets: SecureParameters, *, force: bool = False) -> str:
    """The Gemini key: `GEMINI_API_KEY`, else the SSM SecureString (blocking; `SecretUnavailableError`)."""
    if settings.gemini_api_key:
        return settings.gemini_api_key
    return secrets.get(settings.gemini_api_key_ssm_parameter, force=force)


def check_production_provider(settings: SharedSettings) -> None:
    """A production stage never falls back to the offline provider by default: with `AI_PROVIDER=auto` and
    no Gemini key configured it fails the cold start (`ConfigurationError` naming the parameter);
    `AI_PROVIDER=local` says the offline provider is meant."""
    if settings.is_production and settings.ai_provider == "auto" and not settings.gemini_configured:
        raise ConfigurationError(
            f"Stage {settings.stage!r} has no AI provider configured: set GEMINI_API_KEY_SSM_PARAMETER "
            "(template parameter GeminiApiKeyParameterName) to the Gemini key's SSM parameter, or "
            "AI_PROVIDER=local (template parameter AiProvider) to run the offline provider on purpose."
        )


def build_provider(settings: SharedSettings, secrets: SecureParameters) -> AIProvider:
    """The provider object; no SDK is imported and no key is read until its first call.

    A deployment that selects Gemini without the google-genai package, or a production stage with no
    provider chosen (`check_production_provider`), fails its cold start here (`ConfigurationError`)
    instead of answering 500 to every request or answering offline while calling itself healthy.
    """
    check_production_provider(settings)
    if not uses_gemini(settings):
        from textapi_shared.ai.local_provider import LocalProvider

        return LocalProvider()

    require_installed("google.genai", "google-genai", "AI_PROVIDER / GEMINI_API_KEY*")
    from textapi_shared.ai.gemini_provider import GeminiProvider

    return GeminiProvider(
        model=settings.ai_model,
        api_key=lambda: gemini_api_key(settings, secrets),
        base_url=settings.gemini_base_url,
        api_version=settings.gemini_api_version,
        timeout_s=settings.ai_timeout_seconds,
    )
