"""A fake of Gemini's `generateContent` REST API, scriptable per test and keeping a request log.

It speaks the wire protocol the google-genai SDK expects, so tests drive it with the real client
(`HttpOptions(base_url=server.base_url)`). Each request gets the behaviour set for its model in
`server.by_model` if there is one, else the next queued behaviour, or `server.default` when the queue is
empty; a `Computed` behaviour makes its reply from the request's body. Every request is logged, even
those answered with an error, so tests can count upstream calls; requests to unknown paths are logged
with `api_version` and `model` None. A bad API key or a body that is not a JSON object is rejected
before the queue is consulted, so it does not use up a queued behaviour.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from fakes.loopback import LoopbackService

if TYPE_CHECKING:
    from collections.abc import Callable

_ROUTE = re.compile(r"/(v1|v1beta)/models/([\w.-]+):generateContent")
_DEFAULT_TEXT = "fake reply"

# Google's status name and a typical message for each HTTP status the fake answers with.
_STATUSES = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report it."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
_BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
_BAD_KEY_INFO = {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    "reason": "API_KEY_INVALID",
    "domain": "googleapis.com",
    "metadata": {"service": "generativelanguage.googleapis.com"},
}
_SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
]

# What a behaviour renders to: HTTP status, body text, extra headers.
_Response = tuple[int, str, dict[str, str]]


def _error(status: int, message: str | None = None, details: list[dict] | None = None) -> str:
    name, default_message = _STATUSES.get(status, ("UNKNOWN", "Unknown error."))
    error: dict = {"code": status, "message": message or default_message, "status": name}
    if details:
        error["details"] = details
    return json.dumps({"error": error})


def _success(
    model: str, prompt_tokens: int = 10, output_tokens: int = 0, thoughts_tokens: int = 0, **fields: object
) -> str:
    total = prompt_tokens + output_tokens + thoughts_tokens
    usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": total}
    if output_tokens:  # the real API omits a count that is zero
        usage["candidatesTokenCount"] = output_tokens
    if thoughts_tokens:
        usage["thoughtsTokenCount"] = thoughts_tokens
    body = {**fields, "usageMetadata": usage, "modelVersion": model, "responseId": secrets.token_urlsafe(16)}
    return json.dumps(body)


@dataclass(frozen=True)
class Reply:
    """A 200 with one candidate; `json`, when given, is sent as its JSON text instead of `text`."""

    text: str | None = None
    json: object | None = None
    prompt_tokens: int = 10
    output_tokens: int = 5
    thoughts_tokens: int = 0  # a thinking model's: billed as output
    finish_reason: str = "STOP"

    def render(self, model: str) -> _Response:
        text = json.dumps(self.json) if self.json is not None else self.text or ""
        content = {"parts": [{"text": text}], "role": "model"}
        candidate = {"content": content, "finishReason": self.finish_reason, "index": 0}
        usage = (self.prompt_tokens, self.output_tokens, self.thoughts_tokens)
        return 200, _success(model, *usage, candidates=[candidate]), {}


@dataclass(frozen=True)
class Fail:
    """An error status with Google's error body; `retry_after` (seconds) adds a Retry-After header."""

    status: int
    message: str | None = None  # None: a typical message for the status
    retry_after: float | None = None

    def render(self, model: str) -> _Response:
        if self.retry_after is None:
            return self.status, _error(self.status, self.message), {}
        seconds = float(self.retry_after)
        header = str(int(seconds)) if seconds.is_integer() else str(seconds)
        # The real API states the delay in a RetryInfo detail; the header serves HTTP-level clients.
        retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{header}s"}
        return self.status, _error(self.status, self.message, [retry_info]), {"Retry-After": header}


@dataclass(frozen=True)
class Delay:
    """Waits `seconds`, then answers with `then` (None: the server's default behaviour)."""

    seconds: float
    then: Behaviour | None = None


@dataclass(frozen=True)
class Malformed:
    """A 200 whose JSON body is cut short."""

    body: str = '{"candidates": ['

    def render(self, model: str) -> _Response:
        return 200, self.body, {}


@dataclass(frozen=True)
class Blocked:
    """A 200 where the prompt itself was blocked: prompt feedback and no candidates."""

    reason: str = "SAFETY"

    def render(self, model: str) -> _Response:
        feedback = {"blockReason": self.reason, "safetyRatings": _SAFETY_RATINGS}
        return 200, _success(model, promptFeedback=feedback), {}


@dataclass(frozen=True)
class SafetyStop:
    """A 200 whose only candidate was stopped for safety, so it carries no content."""

    def render(self, model: str) -> _Response:
        candidate = {"finishReason": "SAFETY", "index": 0, "safetyRatings": _SAFETY_RATINGS}
        return 200, _success(model, candidates=[candidate]), {}


@dataclass(frozen=True)
class Computed:
    """The behaviour `answer(body)` returns for the request's parsed JSON body: a reply made from what
    the request holds (a model echoing what it was sent)."""

    answer: Callable[[object], Behaviour]


Behaviour = Reply | Fail | Delay | Malformed | Blocked | SafetyStop | Computed


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    api_version: str | None  # "v1" or "v1beta"; None for unknown paths
    model: str | None
    headers: dict[str, str]  # names lower-cased
    body: object | None  # parsed JSON; None when absent or invalid
    received_at: float  # time.monotonic()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    # Keep-alive, as Google's endpoint does: clients reuse their connections instead of opening one per
    # call. TCP_NODELAY, as real servers set it: headers and body are two writes, and Nagle's algorithm
    # would hold the body back for the client's delayed ACK (~40 ms a response).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = _ROUTE.fullmatch(url.path) if self.command == "POST" else None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        api_version, model = route.groups() if route else (None, None)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(self.command, url.path, api_version, model, headers, body, time.monotonic())
        fake._record(request)

        if route is None:
            return self._send(404, _error(404, f"Method not found: {self.command} {url.path}"))
        key = self.headers.get("x-goog-api-key") or parse_qs(url.query).get("key", [None])[0]
        if key != fake.api_key:
            return self._send(400, _error(400, _BAD_KEY_MESSAGE, [_BAD_KEY_INFO]))
        if not isinstance(body, dict):
            return self._send(400, _error(400, "Invalid JSON payload received."))
        behaviour = fake._next_behaviour(model)
        while isinstance(behaviour, Delay | Computed):
            if isinstance(behaviour, Computed):
                behaviour = behaviour.answer(body)
                continue
            fake.stopping.wait(behaviour.seconds)  # stop() cuts a delay short
            behaviour = behaviour.then or fake.default
        self._send(*behaviour.render(model))

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def handle(self) -> None:
        # The client may give up first, e.g. when its timeout fires during a Delay: no traceback.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a request stuck in a Delay must not block stop()

    def __init__(self, fake: FakeGeminiServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeGeminiServer(LoopbackService):
    """A fake Gemini server on a free loopback port; use as a context manager or start()/stop()."""

    thread_name = "fake-gemini"

    def __init__(self, api_key: str = "test-gemini-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.default: Behaviour = Reply(text=_DEFAULT_TEXT)
        self.by_model: dict[str, Behaviour] = {}  # a model's own behaviour (an overloaded primary)

    def make_server(self) -> _HTTPServer:
        return _HTTPServer(self)

    @property
    def base_url(self) -> str:
        """e.g. http://127.0.0.1:54321, once started."""
        return self.url

    def reset(self) -> None:
        """Clears the queue and the request log and restores the default reply."""
        with self._lock:
            self._queue.clear()
            self._log.clear()
            self.by_model.clear()
            self.default = Reply(text=_DEFAULT_TEXT)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._log)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.model == model]

    def _next_behaviour(self, model: str | None) -> Behaviour:
        with self._lock:
            if model in self.by_model:
                return self.by_model[model]
            return self._queue.popleft() if self._queue else self.default
