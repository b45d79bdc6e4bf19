"""A fake service's life on a free loopback port: its HTTP server served from a daemon thread, started
and stopped (or used as a context manager); `stopping` is set by `stop()`, so a request a fake holds back
(a scripted delay) ends at once. It keeps what a test scripts (behaviours for the next requests, first
in first out) and what the service received (the request log)."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer


class LoopbackService:
    thread_name = "fake-service"

    def __init__(self) -> None:
        self.url = ""  # set by start(), e.g. http://127.0.0.1:54321
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._queue: deque[Any] = deque()
        self._log: list[Any] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def make_server(self) -> ThreadingHTTPServer:
        """The service's server, bound to 127.0.0.1 port 0."""
        raise NotImplementedError

    def start(self) -> Self:
        self.stopping.clear()
        self._httpd = self.make_server()
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        # A short poll interval keeps stop() quick: shutdown() waits for the serve loop's next poll.
        serve = self._httpd.serve_forever
        self._thread = threading.Thread(target=serve, args=(0.05,), name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None or self._thread is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def enqueue(self, *behaviours: Any) -> None:
        """Behaviours for the next requests, first in first out."""
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def requests(self) -> list[Any]:
        """What the service received, in order."""
        with self._lock:
            return list(self._log)

    def _record(self, request: Any) -> None:
        with self._lock:
            self._log.append(request)
