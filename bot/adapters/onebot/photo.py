"""Pictures from QQ: the image segment's URL, or get_image for the file the implementation
keeps; checked and saved like every picture the bot takes in."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from pathlib import Path

import aiohttp

from bot.adapters.media import (
    MAX_PHOTO_BYTES,
    Media,
    PhotoRefused,
    download_picture,
    photo_too_big,
)
from bot.adapters.onebot.voice import ApiCall
from bot.core.adapter import AdapterError, StorageError

log = logging.getLogger(__name__)


class PhotoFetcher:
    """Gets a picture from the image segment and saves it in the media folder."""

    def __init__(self, call: ApiCall, media: Media) -> None:
        self.call = call
        self.media = media
        self.http: aiohttp.ClientSession | None = None

    async def fetch(self, segment: dict[str, str]) -> tuple[Path | None, str | None]:
        """The picture saved: its path, or why it was refused (Chinese); neither when it could
        not be had (logged)."""
        try:
            data = await self._picture(segment)
            if data is None:
                log.warning("onebot: could not fetch the picture %s", segment.get("file"))
                return None, None
            return await self.media.save_photo(data), None
        except PhotoRefused as refused:
            log.info("onebot: picture refused: %s", refused.text)
            return None, refused.text
        except StorageError as exc:
            log.warning("onebot: picture not saved: %s", exc)
            return None, None

    async def _picture(self, segment: dict[str, str]) -> bytes | None:
        url = segment.get("url", "")
        if url.startswith(("http://", "https://")) and self.http is not None:
            try:
                return await download_picture(self.http, url)
            except AdapterError as exc:
                log.info("onebot: picture download %s failed: %s", url, exc)
        return await self._from_get_image(segment.get("file", ""))

    async def _from_get_image(self, file: str) -> bytes | None:
        """get_image: NapCat answers base64 or a path on its disk (it runs beside the bot)."""
        if not file:
            return None
        try:
            data = await self.call("get_image", {"file": file})
        except AdapterError as exc:
            log.info("onebot: get_image %s failed: %s", file, exc)
            return None
        if not isinstance(data, dict):
            return None
        encoded = data.get("base64")
        if isinstance(encoded, str) and encoded:
            encoded = encoded.removeprefix("base64://")
            if len(encoded) > MAX_PHOTO_BYTES * 4 // 3 + 4:
                raise photo_too_big()
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                log.info("onebot: get_image %s answered broken base64", file)
                return None
        where = data.get("url")
        if isinstance(where, str) and where.startswith(("http://", "https://")) \
                and self.http is not None:
            try:
                return await download_picture(self.http, where)
            except AdapterError as exc:
                log.info("onebot: picture download %s failed: %s", where, exc)
                return None
        where = data.get("file")
        if isinstance(where, str) and where.startswith("/"):
            return await asyncio.to_thread(_read_local, Path(where))
        return None


def _read_local(path: Path) -> bytes | None:
    """A picture the implementation saved on this machine: too big is refused unread."""
    try:
        if path.stat().st_size > MAX_PHOTO_BYTES:
            raise photo_too_big()
        return path.read_bytes()
    except OSError:
        return None
