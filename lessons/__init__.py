"""The lesson library, text shaping and speech."""
