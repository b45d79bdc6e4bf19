"""Authentication of API and admin keys, and (later) the prompt guard."""
