"""AI providers behind one protocol: Gemini (google-genai) and an offline local provider."""
