"""The media folder as the bot serves it at /media/, and voice messages and photos taken in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import hdrs, web

from bot import texts
from bot.core.adapter import AdapterError, MediaStore, StorageError
from lessons.audio_jobs import hear_voice_away

log = logging.getLogger(__name__)
T = TypeVar("T")

MEDIA_PREFIX = "/media/"
MEDIA_NAME = re.compile(r"[0-9a-f]{16,64}\.(mp3|srt|ogg|amr|jpg|png|webp|gif)")
# The random names received voices, pictures and thumbnails get (content-addressed lesson audio
# has longer ones): these files may be deleted, so a copy is served only while still kept.
RECEIVED_NAME = re.compile(r"[0-9a-f]{32}\.(mp3|jpg|png|webp|gif)")
PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
MEDIA_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "amr": "audio/amr",
               "srt": "text/plain; charset=utf-8", **PHOTO_TYPES}
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # a phone's full-size picture fits; a video or archive not
MAX_VOICE_BYTES = 2 * 1024 * 1024
MAX_VOICE_SECONDS = 120.0
# A recorder told to stop at 120 s stops a few frames later: those frames are not refused.
VOICE_GRACE_SECONDS = 1.0
MIN_VOICE_SECONDS = 0.5
SILENT_LUFS = -60.0  # quieter than this overall, nobody said anything
# Names of files this process has put in the store: a lesson going to a thousand groups is
# read and kept once, not per group. Bounded: a long-running bot makes new audio every day.
PUBLISHED_REMEMBERED = 4096


class VoiceRefused(Exception):
    """A voice recording the bot will not take; `text` tells the member why, in Chinese."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class PhotoRefused(Exception):
    """A picture the bot will not take; `text` tells the member why, in Chinese."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def photo_extension(data: bytes) -> str | None:
    """The picture's kind from its first bytes (jpg, png, webp, gif), whatever it is called."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def photo_too_big() -> PhotoRefused:
    """The refusal of a picture over MAX_PHOTO_BYTES."""
    return PhotoRefused(413, texts.PHOTO_TOO_BIG.format(mb=MAX_PHOTO_BYTES // (1024 * 1024)))


def check_photo(data: bytes) -> str:
    """The picture's extension if the bot takes it; else PhotoRefused saying why."""
    if len(data) > MAX_PHOTO_BYTES:
        raise photo_too_big()
    extension = photo_extension(data)
    if extension is None:
        raise PhotoRefused(415, texts.PHOTO_NOT_A_PICTURE)
    return extension


async def download_picture(http: aiohttp.ClientSession, url: str, *,
                           headers: dict[str, str] | None = None) -> bytes:
    """A picture a platform serves at `url`, read only up to MAX_PHOTO_BYTES: PhotoRefused when
    it is bigger, AdapterError when it cannot be fetched."""
    try:
        async with http.get(url, headers=headers or {}) as response:
            if response.status != 200:
                raise AdapterError(f"picture download answered HTTP {response.status}",
                                   transient=response.status >= 500)
            if (response.content_length or 0) > MAX_PHOTO_BYTES:
                raise photo_too_big()
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_PHOTO_BYTES:
                    raise photo_too_big()
            return bytes(body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AdapterError(f"picture download failed: {exc!r}", transient=True) from exc


class Media:
    """The audio folder: what /media/ serves from it and the URLs that point there."""

    def __init__(self, audio_dir: Path, base_url: str = "", *,
                 store: MediaStore | None = None) -> None:
        self.audio_dir = audio_dir
        self.base_url = base_url.rstrip("/")
        # Where every instance finds the files (None: this folder is the only copy, as with
        # one instance on SQLite); the folder then only caches them.
        self.store = store
        self._published: OrderedDict[str, None] = OrderedDict()
        self._fetching: dict[str, asyncio.Future[bytes | None]] = {}
        self._putting: dict[str, asyncio.Future[None]] = {}

    def setup(self, app: web.Application) -> None:
        """Register /media/{name}: once per app, whichever adapters link to it."""
        app.router.add_get(MEDIA_PREFIX + "{name}", self._serve)
        if self.store is not None:
            app.cleanup_ctx.append(self._sharing)

    async def _sharing(self, _app: web.Application) -> AsyncIterator[None]:
        """Share the folder's older files in the background while the app runs."""
        task = asyncio.create_task(self.share_folder())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def share_folder(self) -> int:
        """Keep the folder's files the store has never seen (made before it kept them, by a
        bot that ran alone) for every instance; how many. A file deleted meanwhile stays so."""
        if self.store is None:
            return 0
        names = await asyncio.to_thread(servable_names, self.audio_dir)
        unseen = await self.store.unseen(names)
        for name in unseen:
            try:
                await self.publish(self.audio_dir / name)
            except (OSError, StorageError) as exc:  # gone since listed, or the store is busy
                log.warning("media %s not shared: %s", name, exc)
        if unseen:
            log.info("%d older media file(s) shared with every instance", len(unseen))
        return len(unseen)

    def link(self, path: Path) -> str:
        """The file's address on this site, for pages the bot serves itself."""
        return f"{MEDIA_PREFIX}{path.name}"

    def url(self, path: Path) -> str:
        """The file's full public URL, for platforms that fetch or show it."""
        return f"{self.base_url}{self.link(path)}"

    def servable(self, path: Path) -> Path:
        """The file resolved, if /media/ can serve it; else AdapterError."""
        root = self.audio_dir.resolve()
        try:
            resolved = path.resolve(strict=True)
        except OSError as exc:
            raise AdapterError(f"audio file not found: {path}") from exc
        if resolved.parent != root or not resolved.is_file():
            raise AdapterError(f"audio file is not inside the audio folder {root}: {path}")
        if not MEDIA_NAME.fullmatch(resolved.name):
            raise AdapterError(f"audio file name cannot be served: {resolved.name}")
        return resolved

    async def save_voice(self, mp3: bytes) -> Path:
        """Write a voice message under a random name /media/ serves, and keep it in the store
        before anyone is given its address (StorageError if it cannot be kept whole)."""
        path = await asyncio.to_thread(save_voice, self.audio_dir, mp3)
        await self._keep(path, mp3)
        return path

    async def save_photo(self, data: bytes) -> Path:
        """Check a received picture by its content and write it under a random name (which
        nobody can guess, so a private group's photos stay private), kept in the store too:
        PhotoRefused if it is not a picture or too big, StorageError if it cannot be kept."""
        extension = check_photo(data)
        path = await asyncio.to_thread(
            write_whole, self.audio_dir, f"{secrets.token_hex(16)}.{extension}", data)
        await self._keep(path, data)
        return path

    async def publish(self, path: Path) -> None:
        """Keep a complete file of the folder (a lesson's audio, a thumbnail) in the store, once
        per name however often it is handed out; StorageError if it cannot be kept."""
        if self.store is None or path.name in self._published:
            return
        # A fan-out's posts ask together: one reads and keeps the file, the others wait for it.
        await once(self._putting, path.name, partial(self._put_file, path))

    async def _put_file(self, path: Path) -> None:
        assert self.store is not None
        data = await asyncio.to_thread(path.read_bytes)
        await self.store.put(path.name, data)
        self._published[path.name] = None
        if len(self._published) > PUBLISHED_REMEMBERED:
            self._published.popitem(last=False)

    async def size_of(self, names: list[str]) -> int:
        """Bytes these files take, wherever they were received (files gone take none)."""
        if self.store is not None:
            return await self.store.size_of(names)
        return await asyncio.to_thread(folder_size, self.audio_dir, names)

    async def discard(self, *paths: Path | None) -> None:
        """Remove files nothing keeps, from the folder and from the store."""
        gone = [path for path in paths if path is not None]
        await asyncio.to_thread(remove_files, gone)
        if self.store is not None and gone:
            await self.store.delete([path.name for path in gone])

    async def _fetch(self, name: str) -> bytes | None:
        """The file from the store, written into the folder; None if the store has none.

        A platform fetching one lesson for a thousand groups asks at once: one of them reads
        the store and writes the file, the others wait for it."""
        return await once(self._fetching, name, partial(self._cache, name))

    async def _cache(self, name: str) -> bytes | None:
        assert self.store is not None
        data = await self.store.get(name)
        if data is None:
            return None
        # A lesson's speech found in the folder is reused with the subtitles beside it: they
        # come first, as where the speech is made.
        subtitles = name.replace(".mp3", ".srt") if name.endswith(".mp3") else None
        srt = await self.store.get(subtitles) if subtitles is not None else None
        try:
            if subtitles is not None and srt is not None:
                await asyncio.to_thread(write_whole, self.audio_dir, subtitles, srt)
            await asyncio.to_thread(write_whole, self.audio_dir, name, data)
        except StorageError as exc:
            log.warning("media %s served without keeping a copy: %s", name, exc)
        return data

    async def _keep(self, path: Path, data: bytes) -> None:
        if self.store is None:
            return
        try:
            await self.store.put(path.name, data)
        except BaseException:
            # Not kept where other instances look: nobody gets an address that only works here.
            await asyncio.to_thread(remove_files, [path])
            raise

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if not MEDIA_NAME.fullmatch(name):
            raise web.HTTPNotFound()
        headers = {hdrs.CONTENT_TYPE: MEDIA_TYPES[name.rsplit(".", 1)[1]],
                   hdrs.CACHE_CONTROL: "public, max-age=604800"}
        path = self.audio_dir / name
        if self.store is not None and RECEIVED_NAME.fullmatch(name) and path.is_file() \
                and await self.store.forgotten(name):
            # Expired by another instance's sweep: this copy goes too.
            await asyncio.to_thread(remove_files, [path])
            raise web.HTTPNotFound()
        if not path.is_file() and self.store is not None:
            # Made or received by another instance: fetched once, then served from the folder.
            data = await self._fetch(name)
            if data is None:
                raise web.HTTPNotFound()
            if not path.is_file():  # the folder could not take it (a full disk)
                return web.Response(body=data, headers=headers)
        try:
            resolved = path.resolve(strict=True)
        except OSError as exc:
            raise web.HTTPNotFound() from exc
        if resolved.parent != self.audio_dir.resolve() or not resolved.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(resolved, headers=headers)


def prepare_voice(audio: bytes) -> tuple[bytes, float]:
    """A recording as MP3 with its length in seconds; VoiceRefused saying why it is unfit."""
    if not audio:
        raise VoiceRefused(400, texts.WEB_VOICE_TOO_SHORT)
    # Converted in the audio worker's child: PyAV never stays in the bot's memory.
    heard = hear_voice_away(audio, max_seconds=MAX_VOICE_SECONDS,
                            refuse_after=MAX_VOICE_SECONDS + VOICE_GRACE_SECONDS)
    if heard.mp3 is None:
        log.info("voice refused: %s", "too long" if heard.too_long else "undecodable")
        raise VoiceRefused(400, texts.WEB_VOICE_TOO_LONG if heard.too_long
                           else texts.WEB_VOICE_UNREADABLE)
    if heard.seconds < MIN_VOICE_SECONDS or heard.lufs < SILENT_LUFS:
        raise VoiceRefused(400, texts.WEB_VOICE_TOO_SHORT)
    return heard.mp3, heard.seconds


def save_voice(audio_dir: Path, mp3: bytes) -> Path:
    """Write a voice message under a random name the media route serves; StorageError if the
    folder cannot take it (full, read-only), with nothing left behind."""
    return write_whole(audio_dir, f"{secrets.token_hex(16)}.mp3", mp3)


def write_whole(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as `folder/name`, all of it or nothing; StorageError if it cannot be."""
    path = folder / name
    # Written whole under a name /media/ never serves, then renamed: a full disk leaves no
    # truncated file under a real name.
    partial = folder / f".{name}.part"
    try:
        with partial.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise StorageError(f"{name} not saved in {folder}: {exc}") from exc
    return path


def once(running: dict[str, asyncio.Future[T]], key: str,
         start: Callable[[], Coroutine[Any, Any, T]]) -> Awaitable[T]:
    """`start()` run once for everyone asking for `key` while it runs; an asker hanging up
    does not cancel it for the others."""
    task = running.get(key)
    if task is None:
        task = running[key] = asyncio.ensure_future(start())
        task.add_done_callback(partial(_finished, running, key))
    return asyncio.shield(task)


def _finished(running: dict[str, asyncio.Future[T]], key: str, done: asyncio.Future[T]) -> None:
    running.pop(key, None)
    if not done.cancelled():
        done.exception()  # retrieved: the askers still waiting were given it, the rest are gone


def servable_names(folder: Path) -> list[str]:
    """The names of the files in `folder` that /media/ serves (blocking: run it in a thread)."""
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in os.scandir(folder)
                  if entry.is_file() and MEDIA_NAME.fullmatch(entry.name))


def folder_size(folder: Path, names: list[str]) -> int:
    """Bytes the files `names` take in `folder` (blocking: run it in a thread)."""
    total = 0
    for name in names:
        try:
            total += (folder / name).stat().st_size
        except OSError:
            continue  # gone already: takes no room
    return total


def remove_files(paths: list[Path]) -> None:
    """Remove these files if they are there (blocking: run it in a thread)."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
