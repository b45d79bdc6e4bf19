"""Idempotency records: one per (caller, Idempotency-Key), claimed by a conditional put."""
