"""An HTTPS server on loopback that records what it receives: the job callback's receiver in tests.

Its certificate comes from the private CA of `fakes.tls` (for 127.0.0.1, ::1 and localhost); the
code under test trusts that CA through a setting, never by turning verification off.
"""

from __future__ import annotations

import ssl
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakes.tls import ServerCertificate


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver = self.server.receiver
        with receiver.lock:
            receiver.requests.append(ReceivedRequest(self.command, self.path, headers, body))
            status = receiver.statuses.popleft() if receiver.statuses else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: HttpsReceiver) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver


class HttpsReceiver:
    """`with HttpsReceiver(certificate) as receiver:` → `receiver.url("/hook")`, `receiver.requests`."""

    def __init__(self, certificate: ServerCertificate) -> None:
        self.certificate = certificate
        self.requests: list[ReceivedRequest] = []
        self.statuses: deque[int] = deque()  # answers to give, in order; 204 once exhausted
        self.lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str, host: str = "localhost") -> str:
        assert self._server is not None
        return f"https://{host}:{self._server.server_address[1]}{path}"

    def __enter__(self) -> HttpsReceiver:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate.cert_file, self.certificate.key_file)
        self._server = _Server(self)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
