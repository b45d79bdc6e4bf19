"""Domain logic of the text operations: prompts, output validation, single and batch processing."""
