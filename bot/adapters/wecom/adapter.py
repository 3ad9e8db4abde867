"""WeCom (企业微信): group robots post text, markdown and AMR voice; a callback brings messages."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.payload import BytesPayload

from bot.adapters.media import Media, PhotoRefused, download_picture
from bot.adapters.wecom.config import WeComConfig, load_config
from bot.adapters.wecom.crypto import CryptoError, MessageCrypto
from bot.adapters.wecom.inbound import CallbackHandler
from bot.adapters.wecom.messages import parse_app_message, parse_robot_message, text_bodies
from bot.core.adapter import (
    AdapterError,
    Directory,
    EventHandler,
    RateLimits,
    RetryAfter,
    StorageError,
    Unsupported,
)
from bot.core.messages import (
    IncomingMessage,
    OutgoingAudio,
    OutgoingMessage,
    OutgoingText,
    as_group_reply,
)

__all__ = ["WeComAdapter", "check_response", "create_adapter", "load_config",
           "parse_app_message", "parse_robot_message"]

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"
AMR_MAGIC = b"#!AMR\n"
MAX_VOICE_BYTES = 2 * 1024 * 1024
MAX_VOICE_SECONDS = 60.0
PER_WINDOW = 20  # "每个机器人发送的消息不能超过20条/分钟"
FLOOD_CONTROL = 45009  # api freq out of limit
SYSTEM_BUSY = -1
INVALID_MEDIA_ID = 40007  # e.g. expired: worth a retry, which uploads the clip afresh
MEDIA_TTL = 3 * 24 * 3600.0 - 3600.0  # media ids live 3 days; an hour spare for clock drift
PARTIAL_TTL = 3600.0
REMEMBERED_AUTHORS = 4096


def check_response(reply: object, *, flood_wait: float) -> dict[str, Any]:
    """WeCom's JSON answer, or the typed error it stands for (the one place errors map)."""
    if not isinstance(reply, dict) or not isinstance(reply.get("errcode"), int):
        raise AdapterError(f"WeCom answered something else than its JSON: {reply!r:.200}",
                           transient=True)
    code, message = reply["errcode"], str(reply.get("errmsg", ""))
    if code == 0:
        return reply
    if code == FLOOD_CONTROL:
        raise RetryAfter(flood_wait, chat_only=True)  # one robot = one group
    raise AdapterError(f"WeCom error {code}: {message}",
                       transient=code in (SYSTEM_BUSY, INVALID_MEDIA_ID))


class WeComAdapter:
    """Posts through each group's robot webhook; receives through the callback if configured."""

    platform = "wecom"
    audio_format = "amr"
    limits = RateLimits(chat_per_minute=PER_WINDOW)
    private_answers = False  # a group robot only posts to its group
    private_in_chat = False
    window = 60.0  # seconds WeCom counts 20 messages per robot over
    timeout = 30.0  # seconds one call to WeCom may take

    def __init__(self, config: WeComConfig, *, directory: Directory | None = None,
                 on_event: EventHandler | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 media: Media | None = None) -> None:
        self.config = config
        self.directory = directory
        self.media = media
        self.on_event = on_event
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._sent: dict[str, deque[float]] = {}  # per robot key: when our last 20 went out
        self._media: dict[tuple[str, Path], tuple[str, float]] = {}
        # Pieces of a long text already posted, so a retry after 45009 sends only the rest.
        self._partial: dict[tuple[str, OutgoingText], tuple[list[str], float]] = {}
        self._authors: OrderedDict[str, str] = OrderedDict()  # message id -> who wrote it
        crypto = MessageCrypto(config.token, config.aes_key, config.receive_id) \
            if config.callback else None
        self._callback = (CallbackHandler(crypto, self._dispatch,
                                          fetch_picture=self._fetch_picture)
                          if crypto is not None else None)

    def setup(self, app: web.Application) -> None:
        """The HTTP session's lifecycle, and the callback routes when WeCom posts to us."""
        app.cleanup_ctx.append(self._lifecycle)
        if self._callback is not None:
            app.router.add_get(CALLBACK_PATH, self._callback.verify_url)
            app.router.add_post(CALLBACK_PATH, self._callback.receive)

    async def _lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        await self.open()
        yield
        await self.close()

    async def open(self) -> None:
        """Create the one HTTP session this adapter uses."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Post one message through the chat's robot; return our id for it (WeCom gives none)."""
        key = self.config.robots.get(chat_id)
        if key is None:
            raise AdapterError(f"no WeCom robot is set for chat {chat_id!r} "
                               "(YEHUA_WECOM_ROBOTS or YEHUA_WECOM_CHAT_ID)")
        match message:
            case OutgoingText():
                # No private messages through a group robot: one @-line in the group at most.
                reply = as_group_reply(message)
                return "" if reply is None else await self._send_text(chat_id, key, reply)
            case OutgoingAudio():
                media_id = await self._voice_media(key, message)
                try:
                    return await self._post(key, {"msgtype": "voice",
                                                  "voice": {"media_id": media_id}})
                except RetryAfter:
                    raise
                except AdapterError:
                    self._media.pop((key, message.path), None)  # upload afresh next time
                    raise
            case _:
                raise Unsupported(f"WeCom cannot carry {type(message).__name__}")

    async def _send_text(self, chat_id: str, key: str, message: OutgoingText) -> str:
        mention = message.mention or self._authors.get(message.reply_to or "")
        markdown = message.lesson_slug is not None and self.config.lesson_format == "markdown"
        bodies = text_bodies(message, markdown=markdown, mention=mention)
        if not bodies:
            raise AdapterError("refusing to post an empty text to WeCom")
        now = self.clock()
        self._partial = {k: v for k, v in self._partial.items() if v[1] > now - PARTIAL_TTL}
        done, _ = self._partial.pop((chat_id, message), ([], now))
        try:
            for body in bodies[len(done):]:
                done.append(await self._post(key, body))
        except AdapterError:
            if done:
                self._partial[(chat_id, message)] = (done, now)
            raise
        return done[0]

    async def _post(self, key: str, body: dict[str, Any]) -> str:
        await self._call("send", key, body=body)
        self._sent.setdefault(key, deque(maxlen=PER_WINDOW)).append(self.clock())
        return f"wecom-{secrets.token_hex(8)}"

    def flood_wait(self, key: str) -> float:
        """Seconds until WeCom's minute window frees a slot for this robot, as far as we know."""
        now = self.clock()
        recent = [t for t in self._sent.get(key, ()) if t > now - self.window]
        if len(recent) < PER_WINDOW:
            # Someone else posts through this robot too (or we restarted): only a whole
            # window is sure to have let their messages age out.
            return self.window
        return max(recent[0] + self.window - now, 1.0)

    async def _voice_media(self, key: str, audio: OutgoingAudio) -> str:
        """Upload an AMR clip (once per robot per three days) and return its media_id."""
        cached = self._media.get((key, audio.path))
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        try:
            data = await asyncio.to_thread(audio.path.read_bytes)
        except OSError as exc:
            raise AdapterError(f"voice clip not readable: {exc}") from exc
        if not data.startswith(AMR_MAGIC):
            raise Unsupported(f"WeCom plays only AMR voice clips: {audio.path.name}")
        if len(data) > MAX_VOICE_BYTES or audio.duration_s > MAX_VOICE_SECONDS:
            raise Unsupported(f"WeCom voice clips are at most 2 MB and 60 s: {audio.path.name}")
        form = aiohttp.MultipartWriter("form-data")
        part = BytesPayload(data, content_type="application/octet-stream")
        part.set_content_disposition("form-data", name="media", filename=audio.path.name,
                                     filelength=str(len(data)))
        form.append_payload(part)
        reply = await self._call("upload_media", key, form=form, kind="voice")
        media_id = reply.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise AdapterError(f"WeCom gave no media_id: {reply!r:.200}", transient=True)
        self._media[(key, audio.path)] = (media_id, self.clock() + MEDIA_TTL)
        return media_id

    async def _call(self, method: str, key: str, *, body: Any = None, form: Any = None,
                    kind: str | None = None) -> dict[str, Any]:
        if self._session is None:
            raise AdapterError("the WeCom adapter is not running", transient=True)
        params = {"key": key} if kind is None else {"key": key, "type": kind}
        url = f"{self.config.api_base}/cgi-bin/webhook/{method}"
        try:
            async with self._session.post(url, params=params, json=body, data=form) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(f"WeCom {method} failed: {exc!r}", transient=True) from exc
        if status >= 500 or status == 429:
            raise AdapterError(f"WeCom {method} answered HTTP {status}", transient=True)
        try:
            reply = json.loads(raw)
        except ValueError:
            raise AdapterError(f"WeCom {method} answered HTTP {status} with no JSON",
                               transient=status == 200) from None
        return check_response(reply, flood_wait=self.flood_wait(key))

    async def _fetch_picture(self, url: str, encrypted: bool) -> tuple[Path | None, str | None]:
        """A member's picture downloaded (and decrypted: a smart robot's are sealed with the
        callback's key) into the media folder, or why it was refused."""
        if self.media is None or self._session is None or self._callback is None:
            return None, None
        try:
            data = await download_picture(self._session, url)
            if encrypted:
                data = self._callback.crypto.decrypt_media(data)
            return await self.media.save_photo(data), None
        except PhotoRefused as refused:
            log.info("WeCom picture not taken: %s", refused.text)
            return None, refused.text
        except (AdapterError, CryptoError, StorageError) as exc:
            log.warning("WeCom picture could not be fetched: %s", exc)
            return None, None

    async def _dispatch(self, message: IncomingMessage) -> None:
        """Hand an event to the router (read at dispatch time: the app sets it late)."""
        self._authors[message.message_id] = message.user_id
        while len(self._authors) > REMEMBERED_AUTHORS:
            self._authors.popitem(last=False)
        if self.directory is not None:
            # WeCom sends only the userid: keep the name an admin gave the member.
            name = await self.directory.member_name(self.platform, message.chat_id,
                                                    message.user_id)
            if name:
                message = dataclasses.replace(message, user_name=name)
        if self.on_event is not None:
            await self.on_event(message)


def create_adapter(config: WeComConfig, *, directory: Directory, media: Media, base_url: str
                   ) -> WeComAdapter:
    """The adapter the app builds when WeCom settings are present."""
    # Voice goes up as AMR clips and nothing links to /media/; members' pictures are saved there.
    log.info("WeCom robots: %s; callback %s", robots_summary(config.robots),
             f"on at {CALLBACK_PATH}" if config.callback else "off")
    return WeComAdapter(config, directory=directory, media=media)


def robots_summary(robots: Mapping[str, str]) -> str:
    """Chat ids with their robot keys shortened, for logs (keys are secrets)."""
    return ", ".join(f"{chat}:{key[:4]}…" for chat, key in robots.items())
