"""What OpenAI-compatible speech and transcription servers share: their address, their errors."""

from __future__ import annotations

import json


def http_error(status: int, data: bytes) -> str:
    """'HTTP 401: the server's message' from an OpenAI-style, FastAPI-style or plain body."""
    text = data.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed.get("detail", parsed.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    text = " ".join(text.split())[:200]
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def base_url(url: str, what: str) -> str:
    """`url` without a trailing slash; ValueError unless it is an http(s) URL."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"a {what} server's URL must start with http:// or https://, not {url!r}")
    return url.rstrip("/")
