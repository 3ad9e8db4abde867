"""Telegram: the Bot API adapter (long polling or webhook in; text and OGG/Opus voice out)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import texts
from bot.adapters.media import Media
from bot.adapters.telegram.api import TelegramApi
from bot.adapters.telegram.config import TelegramConfig, load_config
from bot.adapters.telegram.inbound import ALLOWED_UPDATES, WEBHOOK_PATH, TelegramInbound
from bot.adapters.telegram.wire import (
    PLATFORM,
    ChatMigrated,
    parse_update,
    split_text,
    trim_caption,
    utf16_len,
)
from bot.core.adapter import (
    AdapterError,
    Directory,
    EventHandler,
    RateLimits,
    Unsupported,
    account_key,
)
from bot.core.messages import OutgoingAudio, OutgoingMessage, OutgoingText, group_line

log = logging.getLogger(__name__)

__all__ = ["TelegramAdapter", "TelegramConfig", "create_adapter", "load_config", "parse_update"]

VOICE_SUFFIXES = {".ogg", ".oga", ".opus"}
NUMERIC_ID = re.compile(r"-?[0-9]{1,20}")
MAX_PARTIAL = 1000
# Voice files whose file_id this bot keeps (a lesson's voice is the same file in every group).
MAX_VOICE_IDS = 256
# How Telegram refuses a file_id it does not (or no longer) know for this bot.
WRONG_FILE = "wrong file identifier"
FileKey = tuple[str, int, int]  # path, size, modification time


class TelegramAdapter(TelegramInbound):
    """Sends through the Bot API and receives group messages by long polling or a webhook."""

    platform = PLATFORM
    audio_format = "ogg"
    limits = RateLimits(global_per_second=30, chat_per_second=1, chat_per_minute=20)
    private_answers = True
    private_in_chat = False  # a direct message is a chat of its own

    def __init__(self, config: TelegramConfig, *, directory: Directory, media: Media,
                 base_url: str, on_event: EventHandler | None = None) -> None:
        self.config = config
        self.directory = directory
        self.media = media
        self.base_url = base_url.rstrip("/")
        self.on_event = on_event
        self.api = TelegramApi(config.api_base, config.token)
        # Telegram counts 30/s per bot token: instances sharing the token share the budget.
        self.limits = dataclasses.replace(self.limits, account=account_key(PLATFORM, config.token))
        self.bot_name = config.bot_name
        self.backoff = 1.0
        self.max_backoff = 60.0
        # The outbox paces whole messages; the pieces of a split text keep the per-chat pace.
        self.piece_gap = 1.0 / (self.limits.chat_per_second or 1.0)
        # Pieces of a long text already sent, so a retry after a 429 does not repeat them.
        self._partial: dict[tuple[str, OutgoingText], list[str]] = {}
        # Members already told how to start the bot for private answers (once is enough).
        self._told_start: set[str] = set()
        # Voice files already on Telegram's servers, oldest use first, and uploads under way.
        self._voice_ids: dict[FileKey, str] = {}
        self._uploading: dict[FileKey, asyncio.Future[str | None]] = {}
        self._uploaders: dict[FileKey, asyncio.Task[Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._init_inbound()

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}{WEBHOOK_PATH}"

    def setup(self, app: web.Application) -> None:
        """The webhook route (in webhook mode) and the background task, in the app's lifecycle."""
        if self.config.webhook:
            app.router.add_post(WEBHOOK_PATH, self._webhook)
            if not self.base_url.startswith("https://"):
                log.warning("Telegram only delivers webhooks to https:// URLs; set "
                            "YEHUA_PUBLIC_URL (now %s)", self.base_url)
        app.cleanup_ctx.append(self._lifecycle)

    async def _lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        await self.api.open()
        self._task = asyncio.create_task(self._run(), name="telegram")
        try:
            yield
        finally:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            await self.api.close()

    async def _run(self) -> None:
        """Learn the bot's username if not configured, then register the webhook or poll."""
        if not self.bot_name:
            me = await self._until_done("getMe", {})
            username = me.get("username") if isinstance(me, dict) else None
            self.bot_name = username if isinstance(username, str) else ""
            log.info("telegram: the bot is @%s", self.bot_name)
        if self.config.webhook:
            await self._until_done("setWebhook", {
                "url": self.webhook_url, "secret_token": self.config.secret,
                "allowed_updates": ALLOWED_UPDATES, "drop_pending_updates": False})
            log.info("telegram: updates come to %s", self.webhook_url)
        else:
            log.info("telegram: long polling %s", self.config.api_base)
            await self._poll()

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Post text (split at sentence ends past 4,096) or a voice note; the first message id."""
        target = self._moved.get(chat_id, chat_id)
        try:
            match message:
                case OutgoingText(private_to=str()):
                    return await self._send_private(target, message)
                case OutgoingText():
                    return await self._send_text(chat_id, target, message)
                case OutgoingAudio():
                    return await self._send_voice(target, message)
                case _:
                    raise Unsupported(f"Telegram cannot carry {type(message).__name__}")
        except ChatMigrated as exc:
            # Stored before raising: the outbox's retry goes to the new id.
            log.warning("telegram group %s is now supergroup %s", target, exc.new_chat_id)
            await self.follow_migration(target, exc.new_chat_id)
            self._moved[chat_id] = exc.new_chat_id
            raise

    async def _send_text(self, chat_id: str, target: str, message: OutgoingText) -> str:
        text, entities = message.text, None
        if message.mention:
            prefix, entities = await self._mention(target, message.mention)
            text = prefix + text
        pieces = split_text(text)
        if not pieces:
            raise AdapterError("Telegram cannot send an empty text")
        key = (chat_id, message)
        done = self._partial.get(key, [])
        for index in range(len(done), len(pieces)):
            if index:
                await asyncio.sleep(self.piece_gap)
            params: dict[str, Any] = {"chat_id": _chat(target), "text": pieces[index]}
            if index == 0:
                params["entities"] = entities
                params["reply_parameters"] = _reply(message.reply_to)
            result = await self.api.call("sendMessage", params)
            done = [*done, _message_id(result)]
            if len(pieces) > 1:
                self._partial[key] = done
                while len(self._partial) > MAX_PARTIAL:
                    self._partial.pop(next(iter(self._partial)))
        self._partial.pop(key, None)
        return done[0]

    async def _send_private(self, target: str, message: OutgoingText) -> str:
        """An answer for one member: a direct message, which Telegram allows once they have
        started the bot; else (403) one short quoted line in the group, the first of them
        saying how to start the bot, or nothing when the answer is not for the group."""
        user = message.private_to or ""
        if NUMERIC_ID.fullmatch(user):
            direct = dataclasses.replace(message, reply_to=None, mention=None, private_to=None)
            try:
                return await self._send_text(user, user, direct)
            except AdapterError as exc:
                # 403 is the documented answer ("bot can't initiate conversation", "blocked");
                # any other refusal (a chat Telegram does not know) ends the same way.
                if exc.transient:
                    raise
                log.info("telegram: no direct message to %s (%s)", user, exc)
        if not message.in_group:
            return ""
        line = group_line(message)
        tell_how = bool(self.bot_name) and user not in self._told_start
        if tell_how:
            line += texts.QUIET_TELEGRAM_START.format(bot=self.bot_name)
        sent = await self._send_text(target, target, OutgoingText(line, reply_to=message.reply_to))
        if tell_how:  # only once it is out: a send retried after a 429 still says it
            self._told_start.add(user)
        return sent

    async def _mention(self, chat_id: str, user_id: str
                       ) -> tuple[str, list[dict[str, Any]] | None]:
        """`@username ` when known; else `@名字 ` linked to the user by a text_mention entity."""
        if not user_id.isdigit():
            return "", None
        username = self._usernames.get(user_id)
        if username:
            return f"@{username} ", None
        name = await self.directory.member_name(PLATFORM, chat_id, user_id)
        if not name:
            return "", None
        label = f"@{name}"
        return f"{label} ", [{"type": "text_mention", "offset": 0, "length": utf16_len(label),
                              "user": {"id": int(user_id)}}]

    async def _send_voice(self, target: str, message: OutgoingAudio) -> str:
        """A voice note: its bytes the first time this bot sends the file, then by the file_id
        Telegram gave for them, so a lesson to a thousand groups is uploaded once."""
        if message.path.suffix.lower() not in VOICE_SUFFIXES:
            raise Unsupported(f"Telegram voice notes are OGG/Opus, not {message.path.name}")
        caption = trim_caption(message.caption) or None
        duration = max(1, math.ceil(message.duration_s))
        key = await asyncio.to_thread(_file_key, message.path)
        for _ in range(2):  # a refused id, then perhaps the one another send just uploaded
            file_id = await self._voice_id(key)
            if file_id is None:
                break
            try:
                result = await self.api.call("sendVoice", {
                    "chat_id": _chat(target), "voice": file_id, "caption": caption,
                    "duration": duration})
                return _message_id(result)
            except AdapterError as exc:
                # Telegram may retire a file_id; the file itself is still here to upload.
                if WRONG_FILE not in str(exc).lower():
                    raise
                log.info("telegram: voice file_id refused, uploading %s again", message.path.name)
                if self._voice_ids.get(key) == file_id:
                    del self._voice_ids[key]
        return await self._upload_voice(key, {
            "chat_id": target, "caption": caption, "duration": str(duration)}, message.path)

    async def ready(self, message: OutgoingMessage) -> None:
        """Before a voice takes its send slot: the first send of a file not yet on Telegram
        becomes its uploader; the others wait here for the file_id, so no slot is held while
        an upload is under way (held slots would go out late, all at once)."""
        if (not isinstance(message, OutgoingAudio)
                or message.path.suffix.lower() not in VOICE_SUFFIXES):
            return
        key = await asyncio.to_thread(_file_key, message.path)
        if key in self._voice_ids:
            return
        pending = self._uploading.get(key)
        if pending is None:
            self._claim(key)
        elif self._uploaders.get(key) is not asyncio.current_task():
            await asyncio.shield(pending)

    def _claim(self, key: FileKey) -> None:
        """This task uploads the file; the others sending it wait for the id it brings."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        task = asyncio.current_task()
        self._uploading[key] = future
        if task is not None:
            self._uploaders[key] = task
            # A send given up before its upload must not leave the others waiting.
            task.add_done_callback(lambda _: self._settle(key, future, None))

    def _settle(self, key: FileKey, future: asyncio.Future[str | None],
                file_id: str | None) -> None:
        if self._uploading.get(key) is future:
            del self._uploading[key]
            self._uploaders.pop(key, None)
        if not future.done():
            future.set_result(file_id)

    async def _voice_id(self, key: FileKey) -> str | None:
        """The file_id of this file, waiting for another send's upload of it under way."""
        file_id = self._voice_ids.get(key)
        if file_id is not None:
            self._voice_ids[key] = self._voice_ids.pop(key)  # recently used: kept longest
            return file_id
        pending = self._uploading.get(key)
        if pending is None or self._uploaders.get(key) is asyncio.current_task():
            return None
        return await asyncio.shield(pending)  # None if that upload failed

    async def _upload_voice(self, key: FileKey, params: dict[str, Any], path: Path) -> str:
        if key not in self._uploading:
            self._claim(key)
        future = self._uploading[key]
        mine = self._uploaders.get(key) in (asyncio.current_task(), None)
        file_id: str | None = None
        try:
            result = await self.api.upload("sendVoice", params, "voice", path, "audio/ogg")
            file_id = _voice_file_id(result)
            if file_id is not None:
                self._voice_ids[key] = file_id
                while len(self._voice_ids) > MAX_VOICE_IDS:
                    self._voice_ids.pop(next(iter(self._voice_ids)))
            return _message_id(result)
        finally:
            if mine:
                self._settle(key, future, file_id)


def _file_key(path: Path) -> FileKey:
    """The file as it is on disk now: a file written anew under the same name is new audio."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise AdapterError(f"audio file cannot be read: {path}: {exc}") from exc
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _voice_file_id(result: object) -> str | None:
    voice = result.get("voice") if isinstance(result, dict) else None
    file_id = voice.get("file_id") if isinstance(voice, dict) else None
    return file_id if isinstance(file_id, str) and file_id else None


def _chat(chat_id: str) -> int | str:
    """Numeric ids as numbers; `@channelname` as it is."""
    return int(chat_id) if NUMERIC_ID.fullmatch(chat_id) else chat_id


def _reply(reply_to: str | None) -> dict[str, Any] | None:
    if reply_to is None or not reply_to.isdigit():
        return None
    # The original may have been deleted meanwhile: the answer still matters.
    return {"message_id": int(reply_to), "allow_sending_without_reply": True}


def _message_id(result: object) -> str:
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return str(result["message_id"])
    raise AdapterError(f"Telegram answered without a message id: {result!r}")


def create_adapter(config: TelegramConfig, *, directory: Directory, media: Media,
                   base_url: str) -> TelegramAdapter:
    """The app's entry point: a Telegram adapter for this configuration."""
    return TelegramAdapter(config, directory=directory, media=media, base_url=base_url)
