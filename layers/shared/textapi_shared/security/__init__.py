"""Who may call (API and admin keys), how much (rate limits), and what text is refused (prompt guard)."""
