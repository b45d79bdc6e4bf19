"""A fake of Amazon Comprehend's `DetectPiiEntities`, speaking the AWS JSON 1.1 protocol the real boto3
client uses (`POST /`, `X-Amz-Target: Comprehend_20171127.DetectPiiEntities`,
`Content-Type: application/x-amz-json-1.1`), so tests reach it with the real client through
`endpoint_url`. (moto's Comprehend answers every text with one canned list of entities.)

It finds the phrases of `server.entities` (phrase -> type, or (type, score)) wherever they occur in
the text, with character offsets, as Comprehend does. Like the service it refuses a text over
`max_bytes` of UTF-8 with `TextSizeLimitExceededException`, a language other than en/es with
`UnsupportedLanguageException`, an unsigned request, and an unknown target. Each request takes the
next queued behaviour (`Fail`, `Delay`), else finds entities. Every request is logged.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fakes.loopback import LoopbackService

TARGET = "Comprehend_20171127.DetectPiiEntities"
CONTENT_TYPE = "application/x-amz-json-1.1"
DEFAULT_ENTITIES: dict[str, str | tuple[str, float]] = {
    "Jane Doe": "NAME",
    "Carlos Ruiz": "NAME",
    "221B Baker Street, London": "ADDRESS",
    "Calle Mayor 5, Madrid": "ADDRESS",
}


@dataclass(frozen=True)
class Fail:
    """An AWS JSON error: `code` as `__type`, with this HTTP status."""

    code: str
    status: int = 400
    message: str = "fake failure"


@dataclass(frozen=True)
class Delay:
    """Waits `seconds` before answering normally (a read timeout on a short client timeout)."""

    seconds: float


Behaviour = Fail | Delay


@dataclass(frozen=True)
class RecordedRequest:
    target: str | None
    headers: dict[str, str]  # names lower-cased
    body: object | None  # parsed JSON; None when absent or invalid
    received_at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str | None:
        return self.body.get("Text") if isinstance(self.body, dict) else None

    @property
    def language(self) -> str | None:
        return self.body.get("LanguageCode") if isinstance(self.body, dict) else None


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        target = headers.get("x-amz-target")
        fake._record(RecordedRequest(target, headers, body))

        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
            return self._error(
                Fail("MissingAuthenticationTokenException", 400, "Missing Authentication Token")
            )
        if target != TARGET:
            return self._error(Fail("UnknownOperationException", 400, f"Unknown operation {target}"))
        if headers.get("content-type") != CONTENT_TYPE or not isinstance(body, dict):
            return self._error(Fail("SerializationException", 400, "Expected a JSON 1.1 body"))
        behaviour = fake._next_behaviour()
        if isinstance(behaviour, Delay):
            fake.stopping.wait(behaviour.seconds)
        elif isinstance(behaviour, Fail):
            return self._error(behaviour)
        text, language = body.get("Text"), body.get("LanguageCode")
        if not isinstance(text, str) or not text:
            return self._error(Fail("ValidationException", 400, "1 validation error detected: Text"))
        if len(text.encode("utf-8", "surrogatepass")) > fake.max_bytes:
            return self._error(
                Fail(
                    "TextSizeLimitExceededException",
                    400,
                    "Input text size exceeds limit. Max length is 100KB.",
                )
            )
        if language not in ("en", "es"):
            return self._error(Fail("UnsupportedLanguageException", 400, f"Unsupported language: {language}"))
        self._send(200, json.dumps({"Entities": fake.find(text)}))

    do_GET = do_PUT = do_DELETE = do_POST

    def _error(self, failure: Fail) -> None:
        self._send(failure.status, json.dumps({"__type": failure.code, "Message": failure.message}))

    def _send(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
        self.end_headers()
        self.wfile.write(data)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # the client gave up first (its read timeout)
            super().handle()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeComprehendServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeComprehendServer(LoopbackService):
    """A fake Comprehend endpoint on a free loopback port; use as a context manager."""

    thread_name = "fake-comprehend"

    def __init__(self, max_bytes: int = 100_000) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.entities: dict[str, str | tuple[str, float]] = dict(DEFAULT_ENTITIES)

    def make_server(self) -> _HTTPServer:
        return _HTTPServer(self)

    @property
    def endpoint_url(self) -> str:
        """e.g. http://127.0.0.1:54321, once started (a boto3 client's `endpoint_url`)."""
        return self.url

    def find(self, text: str) -> list[dict[str, object]]:
        """Every occurrence of a scripted phrase, in Comprehend's entity shape (character offsets)."""
        found = []
        for phrase, kind in self.entities.items():
            kind, score = kind if isinstance(kind, tuple) else (kind, 0.9999)
            start = text.find(phrase)
            while start != -1:
                found.append(
                    {"Score": score, "Type": kind, "BeginOffset": start, "EndOffset": start + len(phrase)}
                )
                start = text.find(phrase, start + len(phrase))
        return sorted(found, key=lambda entity: entity["BeginOffset"])

    def _next_behaviour(self) -> Behaviour | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None
