"""Jobs: batches past one request's time, run by the worker function from a queue, kept in a store."""
