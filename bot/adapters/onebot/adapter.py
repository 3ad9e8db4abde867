"""QQ groups through a OneBot v11 implementation (NapCat, Lagrange.OneBot).

Events come by HTTP POST at /onebot/v11/ (signed with X-Signature when a secret is set) or over
a reverse WebSocket at /onebot/v11/ws that the implementation opens to us with the access token.
Sends go back over that WebSocket while it is up, otherwise to the implementation's HTTP API.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.media import Media
from bot.adapters.onebot.auth import check_token, checked_self_id, signed_event
from bot.adapters.onebot.config import OneBotConfig, load_config
from bot.adapters.onebot.photo import PhotoFetcher
from bot.adapters.onebot.voice import VoiceFetcher
from bot.adapters.onebot.wire import (
    at_segment,
    check_response,
    parse_event,
    read_event,
    record_segment,
    reply_segment,
    text_segment,
)
from bot.adapters.onebot.ws import MAX_FRAME, ReverseConnection
from bot.adapters.redelivery import Redelivery
from bot.adapters.splitting import split_text
from bot.core.adapter import (
    AdapterError,
    Directory,
    EventHandler,
    RateLimits,
    StorageError,
    Unsupported,
    account_key,
)
from bot.core.messages import (
    IncomingMessage,
    OutgoingAudio,
    OutgoingMessage,
    OutgoingText,
    group_line,
)

log = logging.getLogger(__name__)

__all__ = ["OneBotAdapter", "OneBotConfig", "create_adapter", "load_config", "parse_event"]

# QQ publishes no limits. These are cautious: a personal account sending in bursts gets
# risk-controlled (风控) or banned, and QQ folds long messages behind 「展开」.
MAX_TEXT = 2000
HTTP_EVENT_PATHS = ("/onebot/v11", "/onebot/v11/", "/onebot/v11/http", "/onebot/v11/http/")
WS_PATHS = ("/onebot/v11", "/onebot/v11/", "/onebot/v11/ws", "/onebot/v11/ws/")


class OneBotAdapter:
    """Posts to QQ groups and takes their messages in, through NapCat or Lagrange."""

    platform = "onebot"
    audio_format = "mp3"  # the implementation turns it into QQ's SILK with ffmpeg
    limits = RateLimits(global_per_second=5, chat_per_second=1, chat_per_minute=20)
    private_answers = True
    private_in_chat = False  # a private message is a chat of its own

    def __init__(self, config: OneBotConfig, *, directory: Directory, media: Media,
                 on_event: EventHandler | None = None) -> None:
        self.config = config
        self.directory = directory
        self.media = media
        self.on_event = on_event
        # QQ counts per account: instances behind one account (or one API) share the budget.
        self.limits = RateLimits(global_per_second=config.sends_per_second, chat_per_second=1,
                                 chat_per_minute=20, account=account_key(
                                     "onebot", config.self_id or config.api_root,
                                     config.access_token))
        self._http: aiohttp.ClientSession | None = None
        self._sockets: dict[str, ReverseConnection] = {}  # by the bot's QQ number
        self._last_socket: str | None = None
        self._voice = VoiceFetcher(self.call, media)
        self._photo = PhotoFetcher(self.call, media)
        # Pieces of a long text already posted, so a retry after a failed piece goes on
        # from there instead of posting the first ones again.
        self._posted: dict[tuple[str, OutgoingText], list[str]] = {}
        self._voice_cache: tuple[Path, str] | None = None
        self._served: set[str] = set()
        self.redelivery = Redelivery(config.retry_window, self.send)

    def setup(self, app: web.Application) -> None:
        """Register the event endpoints and the client session's lifecycle."""
        for path in HTTP_EVENT_PATHS:
            app.router.add_post(path, self._http_event)
        for path in WS_PATHS:
            app.router.add_get(path, self._reverse_ws)
        app.cleanup_ctx.append(self._lifecycle)
        app.on_shutdown.append(self._close_sockets)
        if not self.config.secret and not self.config.allow_no_token:
            log.info("onebot: no YEHUA_ONEBOT_SECRET, so HTTP POST events are refused; "
                     "events come over the reverse WebSocket")

    async def _lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=self.config.timeout))
        self._voice.http = self._photo.http = self._http
        try:
            yield
        finally:
            await self.redelivery.shutdown()
            await self._close_sockets(_app)
            await self._http.close()
            self._http = None

    async def _close_sockets(self, _app: web.Application) -> None:
        sockets = list(self._sockets.values())
        self._sockets.clear()
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)

    # --- sending -------------------------------------------------------------------------

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Post to a QQ group; return the first message's id."""
        if not chat_id.isascii() or not chat_id.isdigit():
            raise AdapterError(f"not a QQ group number: {chat_id!r}")
        group = int(chat_id)
        match message:
            case OutgoingText(private_to=str()):
                return await self._send_private(chat_id, group, message)
            case OutgoingText():
                return await self._send_text(chat_id, group, message)
            case OutgoingAudio():
                # A QQ voice message carries nothing else; the lesson text went just before.
                return await self._send_group(group, [record_segment(
                    await self._voice_file(message.path))])
            case _:
                raise Unsupported(f"QQ cannot carry {type(message).__name__}")

    async def _send_text(self, chat_id: str, group: int, message: OutgoingText) -> str:
        pieces = split_text(message.text, MAX_TEXT)
        key = (chat_id, message)
        ids = self._posted.setdefault(key, []) if len(pieces) > 1 else []
        for index in range(len(ids), len(pieces)):
            segments: list[dict[str, Any]] = []
            if index == 0 and message.reply_to:
                segments.append(reply_segment(message.reply_to))
            if index == 0 and message.mention and message.mention.isdigit():
                segments += [at_segment(message.mention), text_segment(" ")]
            segments.append(text_segment(pieces[index]))
            ids.append(await self._send_group(group, segments))
        self._posted.pop(key, None)
        return ids[0]

    async def _send_private(self, chat_id: str, group: int, message: OutgoingText) -> str:
        """An answer for one member: a private message (a temporary session from the group if
        they are no friend of the account); where QQ refuses it, one short @-reply line in the
        group, or nothing when the answer is not for the group."""
        user = message.private_to or ""
        if user.isascii() and user.isdigit():
            try:
                ids = [await self._call_for_id("send_private_msg", {
                    "user_id": int(user), "group_id": group, "message": [text_segment(piece)]})
                    for piece in split_text(message.text, MAX_TEXT)]
                return ids[0]
            except AdapterError as exc:
                if exc.transient:  # flood control, a timeout: the outbox tries again
                    raise
                log.info("onebot: no private message to %s: %s", user, exc)
        if not message.in_group:
            return ""
        mention = user if user.isdigit() else None
        return await self._send_text(chat_id, group, OutgoingText(
            group_line(message), reply_to=message.reply_to, mention=mention))

    async def _call_for_id(self, action: str, params: dict[str, Any]) -> str:
        data = await self.call(action, params)
        message_id = data.get("message_id") if isinstance(data, Mapping) else None
        return "" if message_id is None else str(message_id)

    async def _send_group(self, group: int, segments: list[dict[str, Any]]) -> str:
        data = await self.call("send_group_msg", {"group_id": group, "message": segments})
        message_id = data.get("message_id") if isinstance(data, Mapping) else None
        if message_id is None:
            log.warning("onebot: send_group_msg to %s answered without a message id", group)
            return ""
        return str(message_id)

    async def _voice_file(self, path: Path) -> str:
        """The record segment's `file`: the MP3 inline (base64://), or its URL here."""
        if self.config.voice == "url":
            return self.media.url(path)
        # Lesson audio files are named by their content, so the path is enough of a key.
        if self._voice_cache is None or self._voice_cache[0] != path:
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise AdapterError(f"audio file not readable: {path}: {exc}") from exc
            # One lesson goes to many groups: encode it once, not once per group.
            self._voice_cache = (path, "base64://" + base64.b64encode(data).decode())
        return self._voice_cache[1]

    async def call(self, action: str, params: dict[str, Any]) -> Any:
        """One OneBot API call: over the reverse WebSocket when connected, else HTTP."""
        socket = self._socket()
        if socket is not None:
            return await socket.call(action, params)
        if self.config.api_root:
            return await self._http_call(action, params)
        raise AdapterError("OneBot is not connected: no reverse WebSocket is open and "
                           "YEHUA_ONEBOT_API_ROOT is not set", transient=True)

    @property
    def connected(self) -> bool:
        """Whether a reverse WebSocket that takes API calls is open."""
        return self._socket() is not None

    def _socket(self) -> ReverseConnection | None:
        wanted = self.config.self_id or self._last_socket
        socket = self._sockets.get(wanted) if wanted else None
        if socket is not None and socket.can_call:
            return socket
        return next((s for s in reversed(self._sockets.values()) if s.can_call), None)

    async def _http_call(self, action: str, params: dict[str, Any]) -> Any:
        if self._http is None:
            raise AdapterError("the OneBot adapter is not started", transient=True)
        headers = {}
        if self.config.access_token:
            headers["Authorization"] = f"Bearer {self.config.access_token}"
        try:
            async with self._http.post(f"{self.config.api_root}/{action}", json=params,
                                       headers=headers) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(f"OneBot {action}: {type(exc).__name__}: {exc}",
                               transient=True) from exc
        return check_response(action, status, body, flood_pause=self.config.flood_pause,
                              retry_after=retry_after)

    # --- receiving -----------------------------------------------------------------------

    async def _http_event(self, request: web.Request) -> web.Response:
        """An event by HTTP POST: checked, handed to the bot, and only then answered."""
        self_id = checked_self_id(self.config, request)
        payload = await signed_event(self.config, request)
        if not await self._taken(payload, self_id):
            # OneBot v11 has no redelivery: the implementation will not POST the event again,
            # so it is kept here and written again; the status tells the implementation's log.
            return web.Response(status=503, text="not stored yet: kept and retried")
        return web.Response(status=204)

    async def _reverse_ws(self, request: web.Request) -> web.StreamResponse:
        """A reverse WebSocket: the implementation connects with its QQ number and token."""
        self_id = checked_self_id(self.config, request)
        check_token(self.config, request)
        ws = web.WebSocketResponse(heartbeat=60, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        socket = ReverseConnection(ws, self_id, request.headers.get("X-Client-Role", "Universal"),
                                   wait=self.config.timeout, flood_pause=self.config.flood_pause)
        if socket.can_call:  # API calls go to the newest socket of this account
            self._sockets.pop(self_id, None)
            self._sockets[self_id] = socket
            self._last_socket = self_id
        log.info("onebot: %s connected by reverse WebSocket (%s)", self_id, socket.role)
        try:
            await socket.serve(lambda event: self._ws_event(event, self_id))
        finally:
            if self._sockets.get(self_id) is socket:
                del self._sockets[self_id]
            log.info("onebot: %s disconnected", self_id)
        return ws

    async def _ws_event(self, payload: dict[str, Any], self_id: str) -> None:
        try:
            await self._taken(payload, self_id)  # a WebSocket event has no answer to withhold
        except Exception:  # one bad event must not end the connection or go unlogged
            log.exception("onebot: handling an event from %s failed", self_id)

    async def _taken(self, payload: dict[str, Any], self_id: str) -> bool:
        """Hand an event to the bot; False if the storage failed and it is kept to retry.

        OneBot has no redelivery (HTTP POST or WebSocket), so nothing else would bring it back.
        """
        try:
            await self._dispatch(payload, self_id)
        except StorageError:
            message = parse_event(payload)
            if message is None:
                raise
            self.redelivery.keep(functools.partial(self._dispatch, payload, self_id), message)
            return False
        return True

    async def _dispatch(self, payload: dict[str, Any], self_id: str) -> None:
        """Turn an event into an IncomingMessage (voice fetched) and hand it to the bot."""
        if payload.get("post_type") == "meta_event":
            if payload.get("meta_event_type") == "lifecycle":
                log.info("onebot: %s says %s", self_id, payload.get("sub_type"))
            return
        message, segment, image = read_event(payload)
        if message is None or message.user_id == self_id:
            return
        needs_role = message.platform_role is None and message.user_id.isdigit()
        # The account may sit in many groups the bot does not serve: no downloads for those.
        if (segment is not None or image is not None or needs_role) and \
                await self._serves(message.chat_id):
            if needs_role:
                message = await self._with_role(message)
            voice = await self._voice.fetch(segment) if segment is not None else None
            if voice is not None:
                message = dataclasses.replace(message, voice=voice)
            if image is not None:
                photo, refused = await self._photo.fetch(image)
                message = dataclasses.replace(message, photo=photo, photo_refused=refused)
        handler = self.on_event
        if handler is not None:
            await handler(message)

    async def _serves(self, chat_id: str) -> bool:
        """Whether the group is in the bot's group table (added with `yehua groups add`)."""
        if chat_id in self._served:
            return True
        found = await self.directory.serves(self.platform, chat_id)
        if found:  # only hits are kept: a group may be added while we run
            self._served.add(chat_id)
        return found

    async def _with_role(self, message: IncomingMessage) -> IncomingMessage:
        """Ask for the sender's group role when the event did not say (older implementations)."""
        try:
            data = await self.call("get_group_member_info", {
                "group_id": int(message.chat_id), "user_id": int(message.user_id)})
        except AdapterError as exc:
            log.info("onebot: no role for %s in %s: %s", message.user_id, message.chat_id, exc)
            return message
        role = data.get("role") if isinstance(data, Mapping) else None
        if role not in ("owner", "admin", "member"):
            return message
        return dataclasses.replace(message, platform_role=role)


def create_adapter(config: OneBotConfig, *, directory: Directory, media: Media,
                   base_url: str) -> OneBotAdapter:
    """The adapter the app builds when OneBot settings are present."""
    # `media` builds URLs with the public base URL already: `base_url` is only the app's
    # uniform keyword here.
    return OneBotAdapter(config, directory=directory, media=media)
