"""Real local services for integration tests: Redis and a moto server.

Nothing here skips: if a service cannot be reached or started, the caller gets an error that
says what is missing and how to provide it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class RedisProcess:
    """A throwaway `redis-server` on a free loopback port; can be stopped and started again."""

    def __init__(self, port: int | None = None, *, password: str = "") -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self._password = password  # `requirepass`: clients must AUTH
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: `apt-get install redis-server` (.ci/run does this)"
            )
        command = [binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no"]
        if self._password:
            command += ["--requirepass", self._password]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://:{self._password}@127.0.0.1:{self.port}" if self._password else self.url
        deadline = time.monotonic() + timeout
        while not redis_answers(url, timeout=0.2):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def redis_server() -> Iterator[str]:
    """The URL of a Redis that answers: REDIS_URL (default 127.0.0.1:6379), else a throwaway one."""
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if redis_answers(url):
        yield url
        return
    with RedisProcess() as process:
        yield process.url


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server (all AWS services) on a free loopback port; yields its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per AWS call otherwise
    _list_moto_modules_once()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _list_moto_modules_once() -> None:
    """moto's server lists its package folder (a listdir and ~150 stats) on every request to find the
    service; the folder does not change while it runs, so list it once: ~5 ms less per AWS call."""
    import functools

    from moto import backends

    original = backends.list_of_moto_modules
    if hasattr(original, "__wrapped__"):
        return
    listed = tuple(original())

    @functools.wraps(original)
    def listed_once() -> tuple[str, ...]:
        return listed

    backends.list_of_moto_modules = listed_once


def serialise_moto_writes(monkeypatch) -> None:
    """Make this process's moto server apply DynamoDB writes one at a time. moto applies a conditional
    write as an unlocked read-check-write, so concurrent ADDs can lose updates and two conditional puts
    can both succeed in the fake; real DynamoDB applies each write atomically. Serialised, tests measure
    this code (ADD and conditions, never read-then-write), not the fake's race."""
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    for name in ("update_item", "put_item", "delete_item"):
        original = getattr(DynamoHandler, name)

        def serialised(self, original=original):
            with lock:
                return original(self)

        monkeypatch.setattr(DynamoHandler, name, serialised)
