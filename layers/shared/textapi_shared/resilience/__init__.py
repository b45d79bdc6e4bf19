"""Resilience at the provider seam: presets and strategies, retries (tenacity), fleet-wide circuit
breakers, and the invocation deadline that bounds them. Build it with `resilience.factory`."""
