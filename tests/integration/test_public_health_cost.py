"""Unauthenticated `/v1/health` once ran a bounded SCAN over the whole cache on every
call (with 150,000 keys, 10 calls made 1,000 SCANs) and told anyone the key counts, the backend and the
breaker states. Now it is cheap, cached a few seconds, and says only status, timestamp and version."""

from __future__ import annotations

import redis

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.services import RedisProcess
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app

KEYS = 20_000


def _commands(server: redis.Redis, name: str) -> int:
    return int(server.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0))


def test_public_health_scans_nothing_and_says_nothing_about_internals():
    with RedisProcess() as process:
        server = redis.Redis.from_url(process.url)
        for start in range(0, KEYS, 2000):
            server.mset({f"textapi:v1:summarize:{i:064x}": b"x" for i in range(start, start + 2000)})
        shared = {"stage": "dev", "cache_backend": "redis", "redis_url": process.url}
        public = LambdaClient(create_public_app(PublicApiSettings(api_key=PUBLIC_KEY, **shared)))
        internal = LambdaClient(
            create_internal_app(InternalApiSettings(internal_api_keys=[ADMIN_KEY], **shared))
        )

        before = (_commands(server, "scan"), _commands(server, "ping"))
        bodies = [public.request("GET", "/v1/health").json() for _ in range(10)]
        scans, pings = _commands(server, "scan") - before[0], _commands(server, "ping") - before[1]
        assert scans == 0
        assert pings <= 1, "one cheap probe, then the status is reused for HEALTH_CACHE_SECONDS"
        assert all(set(body) == {"status", "timestamp", "version"} for body in bodies)

        # The details (entry counts by SCAN, key counts) are for admins: the same store, scanned.
        status = internal.request("GET", "/internal/cache/status", headers={"X-API-Key": ADMIN_KEY}).json()
        assert status["entries"] >= KEYS
        assert _commands(server, "scan") > 0
        server.close()
