"""The internal administration API (Lambda function `InternalApiFunction`)."""
