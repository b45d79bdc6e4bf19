"""The response cache: an in-process LRU in front of Redis or DynamoDB, behind one `Cache` protocol.

Import the modules you need (`cache.factory`, `cache.keys`, ...); this package imports nothing, so no
backend client library loads at cold start.
"""
