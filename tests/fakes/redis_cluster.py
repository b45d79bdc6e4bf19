"""A real local Redis cluster for tests and benches: three primaries, TLS only, torn down afterwards.

Each node is `redis-server --cluster-enabled yes --port 0 --tls-port N --tls-cluster yes` in a folder of
its own (its `nodes.conf` survives a kill, so a node restarted on its port rejoins), with a CA and a
node certificate made at setup (`fakes.tls`). The nodes are joined with `redis-cli --tls --cluster
create ... --cluster-replicas 0`. A node's cluster bus listens on its port + 10000, so node ports are
picked below 55536.

Nothing here skips: a missing binary, or one built without TLS, fails loudly saying so.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakes.tls import issue_certificates

if TYPE_CHECKING:
    from collections.abc import Iterator

BUS_PORT_OFFSET = 10_000
NODE_TIMEOUT_MS = 1000  # how soon the others mark a killed primary failed (and the cluster down)
TEST_TIMEOUT_S = 2.0


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """`count` ports below 55536 whose cluster-bus port (+10000) is free as well."""
    rng = random.SystemRandom()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(20_000, 55_536 - BUS_PORT_OFFSET)
        if port not in ports and _port_free(port) and _port_free(port + BUS_PORT_OFFSET):
            ports.append(port)
    return ports


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: `apt-get install redis-server` (.ci/run does this)")
    return path


def _require_tls(redis_cli: str) -> None:
    usage = subprocess.run([redis_cli, "--help"], capture_output=True, text=True, timeout=10)
    if "--tls" not in usage.stdout + usage.stderr:
        raise RuntimeError(
            "redis-cli has no TLS support; the cluster tests need a Redis built with TLS "
            "(Debian's redis-server 7.0 package has it; from source: make BUILD_TLS=yes)"
        )


class RedisClusterProcess:
    """Three (or more) TLS-only primaries on free loopback ports; nodes can be killed and restarted."""

    def __init__(self, directory: Path, *, primaries: int = 3) -> None:
        self.directory = directory
        self.certificates = issue_certificates(directory / "tls", client_auth=True)
        self.ports = free_cluster_ports(primaries)
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._server = _binary("redis-server")
        self._cli = _binary("redis-cli")

    @property
    def url(self) -> str:
        """The URL a client starts from (one node; the client discovers the others)."""
        return f"rediss://127.0.0.1:{self.ports[0]}"

    @property
    def ca_file(self) -> str:
        return str(self.certificates.ca_file)

    def settings(self) -> dict[str, Any]:
        """Settings overrides for a cache backend on this cluster (cluster mode detected: `auto`).

        Timeouts are longer than the production 0.5 s: this machine is shared and busy, and a TLS
        handshake queued behind other tests' work is not what these tests are about."""
        return {
            "cache_backend": "redis",
            "redis_url": self.url,
            "redis_tls_ca_file": self.ca_file,
            "redis_connect_timeout": TEST_TIMEOUT_S,
            "redis_socket_timeout": TEST_TIMEOUT_S,
        }

    def environment(self) -> dict[str, str]:
        return {name.upper(): str(value) for name, value in self.settings().items()}

    def _node_dir(self, port: int) -> Path:
        return self.directory / f"node-{port}"

    def _command(self, port: int) -> list[str]:
        tls = self.certificates
        return [
            self._server,
            "--bind", "127.0.0.1",
            "--port", "0",
            "--tls-port", str(port),
            "--tls-cert-file", str(tls.cert_file),
            "--tls-key-file", str(tls.key_file),
            "--tls-ca-cert-file", str(tls.ca_file),
            "--tls-auth-clients", "no",
            "--tls-cluster", "yes",
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--dir", str(self._node_dir(port)),
            "--logfile", "redis.log",
            "--save", "",
            "--appendonly", "no",
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        _require_tls(self._cli)
        for port in self.ports:
            self._node_dir(port).mkdir(parents=True, exist_ok=True)
            self.start_node(port, wait_for_cluster=False)
        created = subprocess.run(
            [
                self._cli, "--tls", "--cacert", self.ca_file,
                "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
                "--cluster-replicas", "0", "--cluster-yes",
            ],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if created.returncode != 0:
            self.stop()
            output = f"{created.stdout[-2000:]}{created.stderr}"
            raise RuntimeError(f"redis-cli --cluster create failed:\n{output}")
        self.wait_until_ok(timeout)

    def start_node(self, port: int, *, timeout: float = 10.0, wait_for_cluster: bool = True) -> None:
        """Start (or restart, with its saved cluster configuration) the node on `port`."""
        process = subprocess.Popen(self._command(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._processes[port] = process
        deadline = time.monotonic() + timeout
        while not self._answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self._start_failure(port, process))
            time.sleep(0.05)
        if wait_for_cluster:
            self.wait_until_ok(timeout)

    def _start_failure(self, port: int, process: subprocess.Popen[bytes]) -> str:
        log = self._node_dir(port) / "redis.log"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        stderr = process.stderr.read().decode(errors="replace") if process.stderr and process.poll() else ""
        hint = ""
        if "tls" in (tail + stderr).lower():
            hint = " (is this redis-server built with TLS? Debian's 7.0 package is)"
        return f"redis-server did not start on TLS port {port}{hint}:\n{stderr}{tail}"

    def kill_node(self, port: int) -> None:
        """SIGKILL one node, as a crashed primary; its data (in memory only) is gone."""
        process = self._processes.pop(port)
        process.kill()
        process.wait(timeout=10)

    def client(self, **options: Any):
        """A synchronous redis-py cluster client for inspecting the cluster from a test."""
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(self.url, ssl_ca_certs=self.ca_file, **options)

    def node_client(self, port: int):
        import redis

        return redis.Redis(
            host="127.0.0.1",
            port=port,
            ssl=True,
            ssl_ca_certs=self.ca_file,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
        )

    def _answers(self, port: int) -> bool:
        import redis

        client = self.node_client(port)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _cluster_ok(self, port: int) -> bool:
        import redis

        client = self.node_client(port)
        try:
            return client.cluster("info").get("cluster_state") == "ok"
        except redis.RedisError:
            return False
        finally:
            client.close()

    def wait_until_ok(self, timeout: float = 20.0) -> None:
        """Until every node says `cluster_state:ok` (all slots served)."""
        deadline = time.monotonic() + timeout
        while not all(self._cluster_ok(port) for port in self.ports):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis cluster on {self.ports} did not reach cluster_state:ok")
            time.sleep(0.1)

    def stop(self) -> None:
        for port in list(self._processes):
            self.kill_node(port)

    def __enter__(self) -> RedisClusterProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def redis_cluster(directory: Path | None = None) -> Iterator[RedisClusterProcess]:
    """A started three-primary TLS cluster, stopped (and its folder removed) on exit."""
    with (
        tempfile.TemporaryDirectory(prefix="textapi-redis-cluster-") as scratch,
        RedisClusterProcess(directory or Path(scratch)) as cluster,
    ):
        yield cluster
