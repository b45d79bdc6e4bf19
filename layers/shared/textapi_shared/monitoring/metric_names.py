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
    # A request answered by another request's AI call (the same text at the same time), not its own.
    AI_CALLS_SHARED = "AICallsShared"
    # A call that went on to the next model (AI_FALLBACK_MODELS) after the one before failed transiently.
    AI_MODEL_FALLBACKS = "AIModelFallbacks"
    # Tokens billed to the calling key (its own AI calls) and tokens a cached or shared answer saved it.
    TOKENS_BILLED = "TokensBilled"
    TOKENS_SAVED = "TokensSaved"
    # A call the key's token budget could not take (429 BUDGET_EXCEEDED), and billed usage not written.
    BUDGET_REFUSED = "BudgetRefused"
    USAGE_WRITE_FAILED = "UsageWriteFailed"
    PROMPT_FLAGGED = "PromptFlagged"
    # PII redaction (SPEC §13): values replaced before the AI, per type of the request's counts; and
    # placeholders the model's answer dropped (lost) or made up (invented), so not restored.
    PII_REDACTED = "PiiRedacted"
    PII_PLACEHOLDERS_LOST = "PiiPlaceholdersLost"
    PII_PLACEHOLDERS_INVENTED = "PiiPlaceholdersInvented"
    CACHE_HITS = "CacheHits"
    CACHE_MISSES = "CacheMisses"
    CACHE_STALE_SERVED = "CacheStaleServed"
    CACHE_ERRORS = "CacheErrors"
    CACHE_OVERSIZE_SKIPPED = "CacheOversizeSkipped"
    AI_RETRIES = "AIRetries"
    BREAKER_OPENED = "BreakerOpened"
    BREAKER_HALF_OPENED = "BreakerHalfOpened"
    BREAKER_CLOSED = "BreakerClosed"
    BREAKER_REJECTED = "BreakerRejected"
    BREAKER_STORE_ERRORS = "BreakerStoreErrors"
    RESILIENCE_CONFIG_FALLBACK = "ResilienceConfigFallback"
    RESILIENCE_CONFIG_INVALID = "ResilienceConfigInvalid"
    # A cached secret (API keys, the Gemini key, the callback secret) could not be read again: its last
    # value stays in use until a read succeeds.
    SECRET_REFRESH_FAILED = "SecretRefreshFailed"  # noqa: S105 (a metric name, not a secret)
    JOBS_SUBMITTED = "JobsSubmitted"
    JOBS_FINISHED = "JobsFinished"
    JOB_MESSAGES = "JobMessages"
    JOB_ITEMS_COMPLETED = "JobItemsCompleted"
    JOB_ITEMS_FAILED = "JobItemsFailed"
    JOB_ITEMS_RETRIED = "JobItemsRetried"
    JOB_CALLBACKS_FAILED = "JobCallbacksFailed"
