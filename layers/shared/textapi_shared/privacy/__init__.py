"""Personal data kept from the AI: detection of PII in user text, typed placeholders in its place, and
the originals put back in the model's answer."""
