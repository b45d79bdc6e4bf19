"""The estimated cost of billed tokens: USD per million input and output tokens, per model
(`AI_MODEL_PRICES`, over defaults for the models the README names). The offline provider costs nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

# Google's list prices (paid tier, text, prompts up to 200k tokens), USD per million tokens; thinking is
# billed as output. Override or extend with AI_MODEL_PRICES.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gemini-2.5-flash": {"input_per_million": 0.30, "output_per_million": 2.50},
    "gemini-2.5-flash-lite": {"input_per_million": 0.10, "output_per_million": 0.40},
    "gemini-2.5-pro": {"input_per_million": 1.25, "output_per_million": 10.00},
}


class Prices:
    def __init__(self, overrides: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}

    def cost_micros(self, provider: str, model: str, prompt_tokens: int, output_tokens: int) -> int:
        """Micro-USD (USD per million tokens x tokens); 0 for the offline provider and unknown models."""
        price = self._prices.get(model) if provider != "local" else None
        if price is None:
            return 0
        return round(prompt_tokens * price["input_per_million"] + output_tokens * price["output_per_million"])
