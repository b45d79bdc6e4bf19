"""Test doubles that speak real protocols: API Gateway events, Lambda context, local services."""
