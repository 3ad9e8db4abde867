"""The built-in web group chat: room pages, history API, live WebSocket and audio files."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, web
from aiohttp.http_exceptions import HttpProcessingError

from bot import texts
from bot.adapters.media import (
    MAX_PHOTO_BYTES,
    MAX_VOICE_BYTES,
    Media,
    PhotoRefused,
    VoiceRefused,
    photo_too_big,
    prepare_voice,
)
from bot.adapters.redelivery import Redelivery
from bot.adapters.webchat.limits import ChatLimits, Refused, Window
from bot.adapters.webchat.store import ChatStore, Payload, Relayed, Room
from bot.adapters.wire import BadJson, read_json
from bot.core.adapter import NO_LIMITS, AdapterError, EventHandler, StorageError, Unsupported
from bot.core.bus import WEBCHAT, Bus
from bot.core.messages import (
    IncomingMessage,
    OutgoingAudio,
    OutgoingMessage,
    OutgoingText,
    one_line,
    strip_controls,
)

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
USER_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_NAME = 20
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
MAX_TEXT = 2000
VIEWER_HEADER = "X-Yehua-User"  # who asks for the history, to include what is for them alone
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_FRAME = 64 * 1024
MAX_FIELD_BYTES = 1024
MAX_FORM_EXTRA = 16 * 1024  # room in a form for the other fields and the part headers
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'",
}
BROWSER_TEXTS = {name[4:].lower(): value for name, value in vars(texts).items()
                 if name.startswith("WEB_") and isinstance(value, str)}
_dumps = functools.partial(json.dumps, ensure_ascii=False)
# Ids of the messages this instance showed lately, so none is shown twice.
SHOWN_KEPT = 4096
# After the bus was cut off, the messages since the newest one shown are read again, and this
# many ids before it: instances commit their ids a little out of order.
RECHECK_IDS = 200
RELAY_BATCH = 500  # messages read in one go for the sockets here


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is talking on one socket, as the hello said."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class VoiceUpload:
    """The fields of one upload (a voice, a picture), read within their limits."""

    user_id: str
    name: str
    audio: bytes  # the file: a recording or a picture
    text: str = ""  # a picture's caption


class WebChatAdapter:
    """The embedded group chat the bot serves itself: always on, needs nothing else."""

    platform = "web"
    audio_format = "mp3"
    limits = NO_LIMITS
    private_answers = True
    private_in_chat = True  # shown in the room, to that member only

    def __init__(self, store: ChatStore, media: Media, on_event: EventHandler | None = None,
                 *, limits: ChatLimits | None = None, retry_window: float = 120.0,
                 bus: Bus | None = None) -> None:
        self.store = store
        # Messages stored by another instance reach this one's sockets through the bus.
        self.bus = bus
        self._origin = secrets.token_hex(6)
        self._shown: dict[int, None] = {}  # oldest first, SHOWN_KEPT at most
        self._newest_shown = 0
        self._wanted: set[int] = set()  # announced by other instances, not read yet
        self._missed = False
        self._relaying = False
        if bus is not None:
            bus.subscribe(WEBCHAT, self._on_bus)
        self.media = media
        self.on_event = on_event
        # A member's message is stored before the bot handles it: when the bot's own write
        # then fails, nobody would send it again, so it is handed on again from here.
        self.redelivery = Redelivery(retry_window, self.send)
        self.notice: str | None = None
        self.chat_limits = limits or ChatLimits()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        burst = timedelta(seconds=self.chat_limits.window_s)
        # Keyed by member (any number of sockets) and by socket (any number of names).
        self._posts = Window(self.chat_limits.messages, burst)
        self._hellos = Window(self.chat_limits.messages, burst)
        self._new_ids = Window(self.chat_limits.new_ids_per_hour, timedelta(hours=1))
        self._rooms: dict[str, set[web.WebSocketResponse]] = {}
        self._speakers: dict[web.WebSocketResponse, str] = {}  # socket -> member, after hello
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(WEB_DIR / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined)
        self._asset_version = _asset_version(WEB_DIR / "static")
        # Transcoding is heavy: a few at a time, so a burst of uploads cannot starve the bot.
        self._transcoding = asyncio.Semaphore(2)

    def setup(self, app: web.Application) -> None:
        """Register the chat's pages, API, WebSocket and static routes (the app serves /media/)."""
        app.router.add_get("/", self._rooms_page)
        app.router.add_get("/room/{chat_id}", self._room_page)
        app.router.add_get("/api/rooms/{chat_id}/messages", self._history)
        app.router.add_post("/api/rooms/{chat_id}/voice", self._voice)
        app.router.add_post("/api/rooms/{chat_id}/photo", self._photo)
        app.router.add_get("/api/rooms/{chat_id}/talk", self._talk)
        app.router.add_get("/ws/{chat_id}", self._socket)
        app.router.add_static("/static/", WEB_DIR / "static")
        app.on_shutdown.append(self._close_sockets)
        app.on_shutdown.append(self.redelivery.shutdown)

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Store a bot message in the room and show it live to everyone there (an answer for one
        member alone: to that member's sockets only)."""
        only: str | None = None
        try:
            match message:
                case OutgoingText():
                    payload = await self.store.add_bot_text(chat_id, message)
                    only = message.private_to
                case OutgoingAudio():
                    audio = self.media.servable(message.path)
                    srt = (self.media.servable(message.subtitles)
                           if message.subtitles is not None else None)
                    payload = await self.store.add_bot_audio(
                        chat_id, caption=message.caption, audio_url=self.media.link(audio),
                        duration_s=message.duration_s, lesson_slug=message.lesson_slug,
                        subtitle_url=self.media.link(srt) if srt is not None else None)
                case _:
                    raise Unsupported(f"the web chat cannot carry {type(message).__name__}")
        except StorageError as exc:
            raise AdapterError(f"could not store the web message: {exc}", transient=True) from exc
        if payload is None:
            raise AdapterError(f"no such web room: {chat_id!r}")
        await self._broadcast(chat_id, payload, only=only)
        await self._announce(payload)
        return str(payload["id"])

    async def _broadcast(self, chat_id: str, payload: Payload, *, only: str | None = None
                         ) -> None:
        """Show a message live in the room; `only`: to that member's sockets alone."""
        self._shown[payload["id"]] = None
        if len(self._shown) > SHOWN_KEPT:
            del self._shown[next(iter(self._shown))]
        self._newest_shown = max(self._newest_shown, payload["id"])
        data = _dumps({"type": "message", "message": payload})
        sockets = [ws for ws in self._rooms.get(chat_id, ()) if not ws.closed
                   and (only is None or self._speakers.get(ws) == only)]
        results = await asyncio.gather(*(ws.send_str(data) for ws in sockets),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.debug("web chat: a socket in %s went away: %r", chat_id, result)

    async def _announce(self, payload: Payload) -> None:
        """Tell the other instances a message was stored (its id; they read it themselves)."""
        if self.bus is not None:
            await self.bus.publish(WEBCHAT, f"{self._origin}:{payload['id']}")

    async def _on_bus(self, note: str | None) -> None:
        """Show on this instance's sockets what another instance stored; after the bus was cut
        off, whatever was stored since the newest message shown here."""
        if note is None:
            self._missed = bool(self._newest_shown)  # none shown: pages read their own history
        else:
            origin, _, message_id = note.partition(":")
            if origin != self._origin and message_id.isdigit() \
                    and int(message_id) not in self._shown:
                self._wanted.add(int(message_id))
        if self._relaying:
            return  # the read under way takes these too: a burst costs a few reads, not one each
        self._relaying = True
        try:
            while self._missed or self._wanted:
                if self._missed:
                    self._missed = False
                    await self._show(await self.store.relayed(
                        after=max(0, self._newest_shown - RECHECK_IDS)))
                wanted = sorted(self._wanted)[:RELAY_BATCH]
                self._wanted.difference_update(wanted)
                if wanted:
                    await self._show(await self.store.relayed(wanted))
        except StorageError as exc:
            log.warning("web chat: could not read messages another instance stored: %s", exc)
        finally:
            self._relaying = False

    async def _show(self, found: list[Relayed]) -> None:
        for chat_id, payload, only in found:
            if payload["id"] not in self._shown:
                await self._broadcast(chat_id, payload, only=only)

    def _render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self._templates.get_template(template).render(
            notice=self.notice, texts=texts, v=self._asset_version, **context)
        return web.Response(text=html, status=status, content_type="text/html",
                            headers=SECURITY_HEADERS)

    async def _rooms_page(self, request: web.Request) -> web.Response:
        return self._render("chat_rooms.html", rooms=await self.store.rooms())

    async def _room_page(self, request: web.Request) -> web.Response:
        room = await self.store.room(request.match_info["chat_id"])
        if room is None:
            return self._render("chat_not_found.html", status=404)
        messages, more = await self.store.history(room.chat_id, before=None, after=None,
                                            limit=DEFAULT_LIMIT)
        history = {"messages": messages, "has_more": more}
        talk = await self.store.open_talk(room.chat_id)
        return self._render("chat_room.html", group=room, history=history, strings=BROWSER_TEXTS,
                            talk=talk)

    async def _talk(self, request: web.Request) -> web.Response:
        """Whether the room's night talk is open (the page shows 签到 only then)."""
        room = await self.store.room(request.match_info["chat_id"])
        if room is None:
            return _json_error(404, texts.WEB_NOT_FOUND_TITLE)
        talk = await self.store.open_talk(room.chat_id)
        return web.json_response({"open": talk is not None, "talk": talk},
                                 headers={"Cache-Control": "no-store"})

    async def _history(self, request: web.Request) -> web.Response:
        limit = _number(request, "limit", MAX_LIMIT) or DEFAULT_LIMIT
        before, after = _number(request, "before"), _number(request, "after")
        # The member's own id (their only credential) shows the answers meant for them alone.
        viewer = request.headers.get(VIEWER_HEADER)
        if viewer is not None and not USER_ID.fullmatch(viewer):
            return _json_error(400, texts.WEB_ERROR_USER_ID)
        room = await self.store.room(request.match_info["chat_id"])
        if room is None:
            return _json_error(404, texts.WEB_NOT_FOUND_TITLE)
        messages, more = await self.store.history(room.chat_id, before=before, after=after,
                                                  limit=limit, viewer=viewer)
        return web.json_response({"messages": messages, "has_more": more}, dumps=_dumps)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        chat_id = request.match_info["chat_id"]
        group = await self.store.room(chat_id)
        if group is None:
            raise web.HTTPNotFound(text=texts.WEB_NOT_FOUND_TITLE)
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        room = self._rooms.setdefault(chat_id, set())
        room.add(ws)
        speaker: Speaker | None = None
        address = request.remote or ""
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    await _reply_error(ws, texts.WEB_ERROR_FORMAT)
                    continue
                try:
                    speaker = await self._on_frame(ws, group, speaker, frame.data, address)
                    if speaker is not None:
                        self._speakers[ws] = speaker.user_id
                except StorageError:
                    log.exception("web chat: database error in room %s", chat_id)
                    await _reply_error(ws, texts.WEB_ERROR_BUSY)
        finally:
            room.discard(ws)
            self._speakers.pop(ws, None)
            self._posts.forget(("socket", id(ws)))
            self._hellos.forget(id(ws))
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, group: Room, speaker: Speaker | None,
                        data: str, address: str = "") -> Speaker | None:
        """Handle one client frame; return who is speaking on this socket afterwards."""
        try:
            request = read_json(data)
        except BadJson:  # answered below with an error frame; the socket stays up
            request = None
        kind = request.get("type") if isinstance(request, dict) else None
        if kind == "hello" and isinstance(request, dict):
            return await self._hello(ws, group, request, address) or speaker
        if kind != "post" or not isinstance(request, dict):
            await _reply_error(ws, texts.WEB_ERROR_FORMAT)
        elif speaker is None:
            await _reply_error(ws, texts.WEB_ERROR_NO_HELLO)
        elif not isinstance(text := request.get("text"), str):
            await _reply_error(ws, texts.WEB_ERROR_FORMAT)
        elif not (text := strip_controls(text).strip()):
            await _reply_error(ws, texts.WEB_ERROR_EMPTY)
        elif len(text) > MAX_TEXT:
            await _reply_error(ws, texts.WEB_ERROR_TOO_LONG.format(limit=MAX_TEXT))
        elif wait := self._post_wait(group, speaker.user_id, ws):
            # Not stored, not handed on: the browser puts the words back in the box.
            await _reply_error(ws, texts.WEB_LIMIT_TOO_FAST.format(seconds=math.ceil(wait)),
                               draft=text)
        else:
            try:
                payload = await self.store.add_text(group.chat_id, speaker.user_id, speaker.name,
                                                    text)
            except StorageError as exc:
                log.warning("web chat: a message in %s could not be stored: %s", group.chat_id,
                            exc)
                # The page puts the text back in the box, so the member can send it again.
                await ws.send_str(_dumps({"type": "not_saved", "text": texts.WEB_NOT_SAVED,
                                          "draft": text}))
                return speaker
            await self._deliver(group, speaker, payload, text=text)
        return speaker

    async def _hello(self, ws: web.WebSocketResponse, group: Room, request: dict[str, Any],
                     address: str = "") -> Speaker | None:
        """Check a hello and record the member; None (after telling why) if it is refused."""
        user_id, name = request.get("user_id"), request.get("name")
        if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
            await _reply_error(ws, texts.WEB_ERROR_USER_ID)
            return None
        name = clean_name(name)
        if not 1 <= len(name) <= MAX_NAME:
            await _reply_error(ws, texts.WEB_ERROR_NAME, about="name")
            return None
        now = self.clock()
        if wait := self._hellos.wait(id(ws), now):
            await _reply_error(ws, texts.WEB_LIMIT_TOO_FAST.format(seconds=math.ceil(wait)))
            return None
        self._hellos.count(id(ws), now)
        try:
            await self._admit(group, user_id, name, address)
        except Refused as refused:
            await _reply_error(ws, refused.text, about=refused.about)
            return None
        tag = await self.store.join(group.chat_id, user_id, name)
        await ws.send_str(_dumps({"type": "ready", "name": name, "tag": tag}))
        return Speaker(user_id, name)

    async def _deliver(self, group: Room, speaker: Speaker, payload: Payload, *,
                       text: str = "", voice: Path | None = None,
                       photo: Path | None = None) -> None:
        """Show a stored member message to the room, then hand it to the bot."""
        await self._broadcast(group.chat_id, payload)
        await self._announce(payload)
        if self.on_event is None:
            return
        event = IncomingMessage(platform=self.platform, chat_id=group.chat_id,
                                message_id=str(payload["id"]), user_id=speaker.user_id,
                                user_name=speaker.name, text=text, voice=voice, photo=photo)
        try:
            await self.on_event(event)
        except StorageError:
            self.redelivery.keep(functools.partial(self.on_event, event), event)
        except Exception:  # the handler's faults must not lose the post or close the socket
            log.exception("web chat: handling message %s in %s failed", event.message_id,
                          group.chat_id)

    async def _voice(self, request: web.Request) -> web.Response:
        """A member's voice message: checked, transcoded to MP3, stored, shown, handed on."""
        group = await self.store.room(request.match_info["chat_id"])
        if group is None:
            return _json_error(404, texts.WEB_NOT_FOUND_TITLE)
        try:
            upload = await _read_voice(request)
            speaker = Speaker(upload.user_id, await self._voice_sender(group, upload))
            await self._admit(group, speaker.user_id, speaker.name, request.remote or "")
            await self._check_voice_today(group, speaker)
            async with self._transcoding:
                mp3, seconds = await asyncio.to_thread(prepare_voice, upload.audio)
            await self._check_voice_room(len(mp3))
        except VoiceRefused as refused:
            return _json_error(refused.status, refused.text)
        # Not saved: a 5xx answer, which the page shows and after which the member may send
        # the recording again (507: the audio folder is full or cannot be written).
        try:
            path = await self.media.save_voice(mp3)
        except StorageError:
            log.exception("web chat: could not save a voice file for %s", group.chat_id)
            return _json_error(507, texts.WEB_VOICE_NOT_SAVED)
        try:
            payload = await self.store.add_voice(group.chat_id, speaker.user_id, speaker.name,
                                           self.media.link(path), seconds)
        except StorageError:
            log.exception("web chat: could not store a voice message in %s", group.chat_id)
            path.unlink(missing_ok=True)
            return _json_error(503, texts.WEB_VOICE_NOT_SAVED)
        await self._deliver(group, speaker, payload, voice=path)
        return web.json_response({"message": payload}, status=201, dumps=_dumps)

    async def _photo(self, request: web.Request) -> web.Response:
        """A member's picture (the phone's camera or its album): checked by its content,
        stored, shown in the room, handed on with its caption."""
        group = await self.store.room(request.match_info["chat_id"])
        if group is None:
            return _json_error(404, texts.WEB_NOT_FOUND_TITLE)
        try:
            upload = await _read_upload(request, "photo", MAX_PHOTO_BYTES, photo_too_big())
            speaker = Speaker(upload.user_id, await self._voice_sender(group, upload))
            caption = strip_controls(upload.text).strip()
            if len(caption) > MAX_TEXT:
                raise Refused(400, texts.WEB_ERROR_TOO_LONG.format(limit=MAX_TEXT))
            await self._admit(group, speaker.user_id, speaker.name, request.remote or "")
            await self._check_photo_today(group, speaker)
            path = await self.media.save_photo(upload.audio)
        except (VoiceRefused, PhotoRefused) as refused:
            return _json_error(refused.status, refused.text)
        except StorageError:
            log.exception("web chat: could not save a photo for %s", group.chat_id)
            return _json_error(507, texts.WEB_PHOTO_NOT_SAVED)
        try:
            payload = await self.store.add_photo(group.chat_id, speaker.user_id, speaker.name,
                                                 self.media.link(path), caption)
        except StorageError:
            log.exception("web chat: could not store a photo message in %s", group.chat_id)
            path.unlink(missing_ok=True)
            return _json_error(503, texts.WEB_PHOTO_NOT_SAVED)
        await self._deliver(group, speaker, payload, text=caption, photo=path)
        return web.json_response({"message": payload}, status=201, dumps=_dumps)

    async def _check_photo_today(self, group: Room, speaker: Speaker) -> None:
        """Refuse a picture over the member's burst or daily number; else count it."""
        limit = self.chat_limits.photos_per_day
        if limit and await self.store.photos_today(group.chat_id, speaker.user_id,
                                                   self.clock()) >= limit:
            raise Refused(429, texts.WEB_LIMIT_PHOTOS_TODAY.format(limit=limit))
        if wait := self._post_wait(group, speaker.user_id, None):
            raise Refused(429, texts.WEB_LIMIT_TOO_FAST.format(seconds=math.ceil(wait)))

    async def _voice_sender(self, group: Room, upload: VoiceUpload) -> str:
        """The name to show on a voice message: the one sent with it, or the one from hello."""
        if not USER_ID.fullmatch(upload.user_id):
            raise VoiceRefused(400, texts.WEB_ERROR_USER_ID)
        name = clean_name(upload.name)
        if not name:
            known = await self.store.member_name(group.chat_id, upload.user_id)
            if known is None:
                raise VoiceRefused(400, texts.WEB_ERROR_NO_HELLO)
            name = known
        if not 1 <= len(name) <= MAX_NAME:
            raise VoiceRefused(400, texts.WEB_ERROR_NAME)
        return name

    def _post_wait(self, group: Room, user_id: str, ws: web.WebSocketResponse | None) -> float:
        """Seconds this member (and socket) must wait before posting; else 0, the post counted."""
        now = self.clock()
        keys: list[Any] = [("member", group.chat_id, user_id)]
        if ws is not None:
            keys.append(("socket", id(ws)))
        wait = max(self._posts.wait(key, now) for key in keys)
        if not wait:
            for key in keys:
                self._posts.count(key, now)
        return wait

    async def _admit(self, group: Room, user_id: str, name: str, address: str) -> None:
        """Refuse a misleading name, or one address making too many new members (Refused)."""
        refusal = await self.store.name_refusal(group.chat_id, user_id, name)
        if refusal is not None:
            raise Refused(400, refusal, about="name")
        if await self.store.member_name(group.chat_id, user_id) is not None:
            return
        now = self.clock()
        if self._new_ids.wait(address, now):
            log.info("web chat: too many new members from %s in %s", address, group.chat_id)
            raise Refused(429, texts.WEB_LIMIT_NEW_NAMES)
        self._new_ids.count(address, now)

    async def _check_voice_today(self, group: Room, speaker: Speaker) -> None:
        """Refuse a voice over the member's burst or daily number; else count it."""
        limit = self.chat_limits.voices_per_day
        if limit and await self.store.voices_today(group.chat_id, speaker.user_id,
                                             self.clock()) >= limit:
            raise Refused(429, texts.WEB_LIMIT_VOICES_TODAY.format(limit=limit))
        if wait := self._post_wait(group, speaker.user_id, None):
            raise Refused(429, texts.WEB_LIMIT_TOO_FAST.format(seconds=math.ceil(wait)))

    async def _check_voice_room(self, size: int) -> None:
        """Refuse a voice that would take the members' voices over the storage quota."""
        quota = self.chat_limits.voice_quota_bytes
        if quota and await self.media.size_of(
                [Path(name).name for name in await self.store.voice_files()]) + size > quota:
            log.warning("web chat: voice storage quota of %d bytes reached", quota)
            raise Refused(507, texts.WEB_LIMIT_VOICE_FULL)

    async def _close_sockets(self, _app: web.Application) -> None:
        sockets = [ws for room in self._rooms.values() for ws in room]
        await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutdown")
                               for ws in sockets), return_exceptions=True)


async def _read_voice(request: web.Request) -> VoiceUpload:
    """The multipart fields user_id, name and audio, each read only up to its limit."""
    return await _read_upload(request, "audio", MAX_VOICE_BYTES,
                              VoiceRefused(413, texts.WEB_VOICE_TOO_BIG))


async def _read_upload(request: web.Request, file_field: str, limit: int,
                       too_big: Exception) -> VoiceUpload:
    """The multipart fields user_id, name, text and the file `file_field`, each read only up to
    its limit; `too_big` is raised for a file over `limit`."""
    if (request.content_length or 0) > limit + MAX_FORM_EXTRA + MAX_TEXT * 4:
        raise too_big
    try:
        fields = await _read_form(request, file_field, limit, too_big)
        user_id, name, text = (fields.get(key, b"").decode()
                               for key in ("user_id", "name", "text"))
    except (AssertionError, KeyError, ValueError, HttpProcessingError) as exc:
        # aiohttp's multipart reader says "malformed" with any of these.
        raise VoiceRefused(400, texts.WEB_ERROR_FORMAT) from exc
    if file_field not in fields:
        raise VoiceRefused(400, texts.WEB_ERROR_FORMAT)
    return VoiceUpload(user_id, name, fields[file_field], text)


async def _read_form(request: web.Request, file_field: str, file_limit: int,
                     too_big: Exception) -> dict[str, bytes]:
    fields: dict[str, bytes] = {}
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader) or not part.name or part.name in fields:
            raise ValueError("not a flat form with named fields")
        limit = file_limit if part.name == file_field else \
            MAX_TEXT * 4 if part.name == "text" else MAX_FIELD_BYTES
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            if len(data) > limit and part.name == file_field:
                raise too_big
            if len(data) > limit:
                raise ValueError(f"field {part.name} is too long")
        fields[part.name] = bytes(data)
    return fields


def clean_name(name: object) -> str:
    """A display name with control characters dropped and its spaces tidied; empty when it is
    not text."""
    return one_line(name) if isinstance(name, str) else ""


def _json_error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status, dumps=_dumps)


def _number(request: web.Request, name: str, high: int = 2**62) -> int | None:
    """A whole-number query parameter from 1 to `high`, None when absent; else a 400."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= high:
        error = texts.WEB_ERROR_PARAM.format(name=name)
        raise web.HTTPBadRequest(text=_dumps({"error": error, "parameter": name}),
                                 content_type="application/json")
    return int(raw)


async def _reply_error(ws: web.WebSocketResponse, text: str, *, draft: str | None = None,
                       about: str | None = None) -> None:
    """Tell one socket what went wrong; `draft`: a post not taken, for the box to keep;
    `about`: "name" when the name was refused, so the page asks for another."""
    frame: dict[str, str] = {"type": "error", "text": text}
    if draft is not None:
        frame["draft"] = draft
    if about is not None:
        frame["about"] = about
    await ws.send_str(_dumps(frame))


def _asset_version(folder: Path) -> str:
    """A short hash of the static files, so browsers fetch new ones after an upgrade."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("chat*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]
