"""Every CloudWatch metric name the service emits, in one place."""

from enum import StrEnum


class MetricName(StrEnum):
    REQUESTS = "Requests"
    CLIENT_ERRORS = "ClientErrors"
    SERVER_ERRORS = "ServerErrors"
    LATENCY = "Latency"
    OPERATION_LATENCY = "OperationLatency"
    AI_PROMPT_TOKENS = "AIPromptTokens"
    AI_OUTPUT_TOKENS = "AIOutputTokens"
    AI_INVALID_OUTPUT = "AIInvalidOutput"
    PROMPT_FLAGGED = "PromptFlagged"
    RATE_LIMITED = "RateLimited"
