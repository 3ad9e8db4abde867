"""Voice messages from QQ: fetched through get_record (as MP3) or the segment's URL, then
checked and saved like every voice the bot takes in."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.media import MAX_VOICE_BYTES, Media, VoiceRefused, prepare_voice
from bot.core.adapter import AdapterError

log = logging.getLogger(__name__)

ApiCall = Callable[[str, dict[str, Any]], Awaitable[Any]]


class VoiceFetcher:
    """Gets a voice message's audio from the implementation and stores it as MP3."""

    def __init__(self, call: ApiCall, media: Media) -> None:
        self.call = call
        self.media = media
        self.http: aiohttp.ClientSession | None = None
        # Transcoding is heavy: a few at a time, so a burst of voices cannot starve the bot.
        self._transcoding = asyncio.Semaphore(2)

    async def fetch(self, segment: dict[str, str]) -> Path | None:
        """The voice saved as MP3 in the audio folder; None (logged) when it cannot be had."""
        audio = await self._from_get_record(segment.get("file", ""))
        if audio is None and segment.get("url", "").startswith(("http://", "https://")):
            audio = await self._download(segment["url"])
        if audio is None:
            log.warning("onebot: could not fetch the voice message %s", segment.get("file"))
            return None
        try:
            async with self._transcoding:
                mp3, _seconds = await asyncio.to_thread(prepare_voice, audio)
        except VoiceRefused as refused:
            log.info("onebot: voice message refused: %s", refused.text)
            return None
        return await self.media.save_voice(mp3)

    async def _from_get_record(self, file: str) -> bytes | None:
        """get_record with out_format mp3: NapCat answers the MP3 in base64, others a path/URL."""
        if not file:
            return None
        try:
            data = await self.call("get_record", {"file": file, "out_format": "mp3"})
        except AdapterError as exc:
            log.info("onebot: get_record %s failed: %s", file, exc)
            return None
        if not isinstance(data, dict):
            return None
        encoded = data.get("base64")
        if isinstance(encoded, str) and encoded:
            encoded = encoded.removeprefix("base64://")
            if len(encoded) > MAX_VOICE_BYTES * 4 // 3 + 4:
                log.info("onebot: voice %s is too big", file)
                return None
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                log.info("onebot: get_record %s answered broken base64", file)
                return None
        for key in ("url", "file"):
            where = data.get(key)
            if isinstance(where, str) and where.startswith(("http://", "https://")):
                return await self._download(where)
        where = data.get("file")
        if isinstance(where, str) and where.startswith("/"):
            return await asyncio.to_thread(_read_local, Path(where))
        return None

    async def _download(self, url: str) -> bytes | None:
        if self.http is None:
            return None
        try:
            async with self.http.get(url) as response:
                if response.status != 200:
                    log.info("onebot: voice download %s answered %d", url, response.status)
                    return None
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > MAX_VOICE_BYTES:
                        log.info("onebot: voice at %s is too big", url)
                        return None
                return bytes(body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("onebot: voice download %s failed: %r", url, exc)
            return None


def _read_local(path: Path) -> bytes | None:
    """A file the implementation saved on this machine (it runs beside the bot)."""
    try:
        if path.stat().st_size > MAX_VOICE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None
