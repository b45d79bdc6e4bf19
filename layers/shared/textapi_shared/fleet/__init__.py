"""The fleet's shared state: counters, sliding-window budgets and single-flight leases, behind one
`FleetState` port with memory, Redis and DynamoDB implementations.

Import the modules you need; this package imports nothing, so no client library loads at cold start.
"""
