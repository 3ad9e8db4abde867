"""Transcription of recorded speech by a server with an OpenAI-compatible API."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp

from lessons.server_errors import base_url as checked_url
from lessons.server_errors import http_error

log = logging.getLogger(__name__)


class TranscriptionError(Exception):
    """The server gave no transcript; the message says why."""


class Transcriber:
    """POSTs audio to `{base_url}/audio/transcriptions` and returns the text it hears."""

    def __init__(self, base_url: str, *, model: str, api_key: str = "", language: str = "zh",
                 timeout: float = 30.0) -> None:
        self.base_url = checked_url(base_url, "transcription")
        self.model = model
        self.api_key = api_key
        self.language = language
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def transcribe(self, audio: bytes, filename: str) -> str:
        """The text heard in `audio` (a file named `filename`), within the timeout, or raise
        TranscriptionError naming the status and the server's own words."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        form = aiohttp.FormData()
        form.add_field("file", audio, filename=filename)
        form.add_field("model", self.model)
        if self.language:
            form.add_field("language", self.language)
        form.add_field("response_format", "json")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            # One attempt bounded by the timeout: a member waits for the receipt meanwhile.
            async with asyncio.timeout(self.timeout), self._session.post(
                    f"{self.base_url}/audio/transcriptions", data=form,
                    headers=headers) as response:
                data = await response.read()
        except TimeoutError as exc:
            raise TranscriptionError(f"timed out after {self.timeout:g} s") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or exc.os_error
            raise TranscriptionError(f"cannot connect to {exc.host}:{exc.port} ({reason})"
                                     ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TranscriptionError(f"{type(exc).__name__}: {exc}") from exc
        if response.status >= 400:
            raise TranscriptionError(http_error(response.status, data))
        try:
            text = json.loads(data)["text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TranscriptionError("the server's answer has no text") from exc
        if not isinstance(text, str):
            raise TranscriptionError("the server's answer has no text")
        return " ".join(text.split())

    async def aclose(self) -> None:
        """Close the connection pool (the app's cleanup)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
