"""Telegram updates in: long polling or the webhook, voice downloads, roles, migrations."""

from __future__ import annotations

import asyncio
import hmac
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.adapters.media import (
    MAX_PHOTO_BYTES,
    MAX_VOICE_BYTES,
    MAX_VOICE_SECONDS,
    VOICE_GRACE_SECONDS,
    Media,
    PhotoRefused,
    VoiceRefused,
    photo_too_big,
    prepare_voice,
)
from bot.adapters.telegram.api import TelegramApi
from bot.adapters.telegram.config import TelegramConfig
from bot.adapters.telegram.wire import (
    PLATFORM,
    PhotoFile,
    VoiceNote,
    album_of,
    chat_role,
    is_command,
    migration,
    parse_update,
    photo_file,
    username_of,
    voice_note,
)
from bot.adapters.wire import BadJson, read_json
from bot.core.adapter import (
    AdapterError,
    ChatMoved,
    Directory,
    EventHandler,
    RetryAfter,
    StorageError,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
ALLOWED_UPDATES = ["message"]
ROLE_TTL = 60.0  # seconds a member's group status is trusted before asking again
MAX_CACHED = 10_000


class TelegramInbound:
    """The receiving half of the Telegram adapter (mixed into TelegramAdapter)."""

    config: TelegramConfig
    api: TelegramApi
    directory: Directory
    media: Media
    on_event: EventHandler | None
    bot_name: str
    backoff: float
    max_backoff: float

    def _init_inbound(self) -> None:
        self._moved: dict[str, str] = {}  # old group id -> supergroup id
        self._usernames: dict[str, str] = {}  # user id -> username, as updates show them
        self._roles: dict[tuple[str, str], tuple[str | None, float]] = {}
        self._albums: dict[tuple[str, str], str] = {}  # (chat, album) -> its first message
        self._transcoding = asyncio.Semaphore(2)

    async def handle_update(self, update: dict[str, Any]) -> None:
        """Follow a migration, or turn a group message into an event for the router."""
        moved = migration(update)
        if moved is not None:
            await self.follow_migration(*moved)
            return
        if (named := username_of(update)) is not None:
            _remember(self._usernames, *named)
        event = parse_update(update, self.bot_name)
        if event is None or self.on_event is None:
            return
        note, photo = voice_note(update), photo_file(update)
        asks_role = event.platform_role is None and is_command(event.text) and \
            event.chat_id.startswith("-")
        if (note is not None or photo is not None or asks_role) and \
                not await self.directory.serves(PLATFORM, event.chat_id):
            await self.on_event(event)  # the router logs and ignores it: no download, no lookup
            return
        if note is not None:
            path = await self._fetch_voice(note)
            if path is None and not event.text.strip():
                return
            event = replace(event, voice=path)
        if photo is not None and (album := album_of(update)) is not None:
            # An album comes as one update per photo, the caption on the first only: the
            # others go with the first, as if they replied to it.
            first = self._albums.get((event.chat_id, album))
            if first is None:
                _remember(self._albums, (event.chat_id, album), event.message_id)
            elif event.reply_to is None:
                event = replace(event, reply_to=first)
        if photo is not None:
            taken, refused = await self._fetch_photo(photo)
            if taken is None and refused is None and not event.text.strip():
                return
            event = replace(event, photo=taken, photo_refused=refused)
        if asks_role:
            event = replace(event, platform_role=await self._role(event.chat_id, event.user_id))
        await self.on_event(event)

    async def follow_migration(self, old: str, new: str) -> None:
        """A group became a supergroup: send to its new id from now on, and report the move."""
        self._moved[old] = new
        await self.directory.chat_moved(ChatMoved(PLATFORM, old, new))

    async def _poll(self) -> None:
        """Long polling: fetch, handle each update, confirm by asking with a higher offset."""
        await self._until_done("deleteWebhook", {"drop_pending_updates": False})
        offset: int | None = None
        delay = stalled = self.backoff
        while True:
            try:
                updates = await self.api.call(
                    "getUpdates", {"offset": offset, "timeout": self.config.poll_timeout,
                                   "allowed_updates": ALLOWED_UPDATES},
                    within=self.config.poll_timeout + 15)
            except RetryAfter as exc:
                await asyncio.sleep(exc.seconds)
                continue
            except AdapterError as exc:  # 409 (another poller, a webhook), 5xx, network
                log.warning("telegram getUpdates failed, trying again in %.1f s: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            delay = self.backoff
            for update in updates if isinstance(updates, list) else ():
                if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                    continue
                try:
                    await self.handle_update(update)
                except StorageError as exc:
                    # Telegram keeps an update until a getUpdates offset passes it: leave the
                    # offset here, and this update and the ones after it come again.
                    log.warning("telegram update %s not stored, asking for it again in %.1f s: "
                                "%s", update["update_id"], stalled, exc)
                    await asyncio.sleep(stalled)
                    stalled = min(stalled * 2, self.max_backoff)
                    break
                except Exception:  # one bad update must not stop the poller
                    log.exception("telegram update %s could not be handled", update["update_id"])
                stalled = self.backoff
                # Confirmed only by the next call, now that it is handled (and committed).
                offset = max(offset or 0, update["update_id"] + 1)

    async def _until_done(self, method: str, params: dict[str, Any]) -> Any:
        """Call `method` until it succeeds, backing off between tries."""
        delay = self.backoff
        while True:
            try:
                return await self.api.call(method, params)
            except AdapterError as exc:
                wait = exc.seconds if isinstance(exc, RetryAfter) else delay
                log.warning("telegram %s failed, trying again in %.1f s: %s", method, wait, exc)
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.max_backoff)

    async def _webhook(self, request: web.Request) -> web.Response:
        """An update Telegram POSTs: secret first, then size and shape, then handled, then 200."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.config.secret.encode()):
            log.warning("telegram webhook: request without the right secret from %s refused",
                        request.remote)
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        if (request.content_length or 0) > MAX_UPDATE_BYTES:
            return web.json_response({"ok": False, "error": "too large"}, status=413)
        try:
            update = read_json(await request.read())
        except BadJson:
            update = None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        try:
            await self.handle_update(update)
        except StorageError as exc:
            # Telegram posts an update again after any answer other than 2xx.
            log.warning("telegram update %s not stored; Telegram will send it again: %s",
                        update["update_id"], exc)
            return web.json_response({"ok": False, "error": "not stored, send again"},
                                     status=503)
        return web.json_response({"ok": True})

    async def _fetch_voice(self, note: VoiceNote) -> Path | None:
        """A voice message downloaded and stored as MP3; None (logged) when it cannot be."""
        if (note.size or 0) > MAX_VOICE_BYTES or \
                note.duration > MAX_VOICE_SECONDS + VOICE_GRACE_SECONDS:
            log.info("telegram voice %s is too long (%.0f s, %s bytes): not taken",
                     note.file_id, note.duration, note.size)
            return None
        try:
            file = await self.api.call("getFile", {"file_id": note.file_id})
            if not isinstance(file, dict) or not isinstance(file.get("file_path"), str):
                raise AdapterError(f"getFile gave no file_path: {file!r}")
            data = await self.api.download(file["file_path"], MAX_VOICE_BYTES)
            async with self._transcoding:
                mp3, _seconds = await asyncio.to_thread(prepare_voice, data)
        except AdapterError as exc:
            log.warning("telegram voice %s could not be downloaded: %s", note.file_id, exc)
            return None
        except VoiceRefused as refused:
            log.info("telegram voice %s not taken: %s", note.file_id, refused.text)
            return None
        return await self.media.save_voice(mp3)

    async def _fetch_photo(self, photo: PhotoFile) -> tuple[Path | None, str | None]:
        """A photo downloaded and saved: its path, or why it was refused (Chinese); neither
        when it could not be fetched (logged)."""
        try:
            if (photo.size or 0) > MAX_PHOTO_BYTES:
                raise photo_too_big()  # refused unfetched
            file = await self.api.call("getFile", {"file_id": photo.file_id})
            if not isinstance(file, dict) or not isinstance(file.get("file_path"), str):
                raise AdapterError(f"getFile gave no file_path: {file!r}")
            data = await self.api.download(file["file_path"], MAX_PHOTO_BYTES)
            return await self.media.save_photo(data), None
        except PhotoRefused as refused:
            log.info("telegram photo %s not taken: %s", photo.file_id, refused.text)
            return None, refused.text
        except (AdapterError, StorageError) as exc:
            log.warning("telegram photo %s could not be downloaded: %s", photo.file_id, exc)
            return None, None

    async def _role(self, chat_id: str, user_id: str) -> str | None:
        """The sender's group status (owner/admin/member), asked at most once a minute."""
        if not user_id.isdigit():
            return None
        now = asyncio.get_running_loop().time()
        cached = self._roles.get((chat_id, user_id))
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await self.api.call("getChatMember",
                                         {"chat_id": int(chat_id), "user_id": int(user_id)})
        except AdapterError as exc:
            log.info("telegram getChatMember %s in %s failed: %s", user_id, chat_id, exc)
            return None
        role = chat_role(member.get("status") if isinstance(member, dict) else None)
        _remember(self._roles, (chat_id, user_id), (role, now + ROLE_TTL))
        return role


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    """Put `key` in a bounded cache, forgetting the oldest entry when full."""
    cache.pop(key, None)
    cache[key] = value
    if len(cache) > MAX_CACHED:
        cache.pop(next(iter(cache)))
