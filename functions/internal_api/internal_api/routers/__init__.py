"""The internal API's routers; `INDEXED` are those `GET /internal` lists besides its own."""

from internal_api.routers import cache, monitoring, resilience, tenants

INDEXED = (monitoring.router, cache.router, resilience.router, tenants.router)
