"""The public text-processing API (Lambda function `PublicApiFunction`)."""
