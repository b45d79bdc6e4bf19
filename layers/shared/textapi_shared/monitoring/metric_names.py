"""Every CloudWatch metric name the service emits, in one place."""

from enum import StrEnum


class MetricName(StrEnum):
    REQUESTS = "Requests"
    CLIENT_ERRORS = "ClientErrors"
    SERVER_ERRORS = "ServerErrors"
    LATENCY = "Latency"
    KEY_SOURCE_ERRORS = "KeySourceErrors"
