"""Deadlines now; retries and circuit breakers plug in at the provider seam later."""
