"""Tenants: API keys as records an operator manages without a deploy, their token metering, budgets and
usage. Import the modules you need; this package imports nothing, so no client loads at cold start."""
