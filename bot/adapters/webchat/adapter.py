"""The built-in web group chat: room pages, history API, live WebSocket and audio files."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.core.adapter import NO_LIMITS, AdapterError, EventHandler, Unsupported
from bot.core.db import session
from bot.core.messages import IncomingMessage, OutgoingAudio, OutgoingMessage, OutgoingText
from bot.core.models import ChatMessage, Group
from bot.domain.webchat import (
    MAX_NAME,
    MAX_VOICE_BYTES,
    USER_ID,
    VoiceRefused,
    bot_text,
    clean_name,
    describe,
    group_id,
    page,
    prepare_voice,
    room_list,
    save_voice,
    sender_tag,
    store_message,
    upsert_member,
    voice_sender,
    web_group,
)
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
MEDIA_NAME = re.compile(r"[0-9a-f]{16,64}\.(mp3|srt|ogg|amr)")
MEDIA_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "amr": "audio/amr",
               "srt": "text/plain; charset=utf-8"}
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
MAX_TEXT = 2000
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_FRAME = 64 * 1024
BOT_SENDER_ID = "bot"
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


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is talking on one socket, as the hello said."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class VoiceUpload:
    """The fields of one voice upload, read within their limits."""

    user_id: str
    name: str
    audio: bytes


class WebChatAdapter:
    """The embedded group chat the bot serves itself: always on, needs nothing else."""

    platform = "web"
    audio_format = "mp3"
    limits = NO_LIMITS

    def __init__(self, engine: Engine, audio_dir: Path, on_event: EventHandler | None = None
                 ) -> None:
        self.engine = engine
        self.audio_dir = audio_dir
        self.on_event = on_event
        self.notice: str | None = None
        self._rooms: dict[str, set[web.WebSocketResponse]] = {}
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(WEB_DIR / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined)
        self._asset_version = _asset_version(WEB_DIR / "static")
        # Transcoding is heavy: a few at a time, so a burst of uploads cannot starve the bot.
        self._transcoding = asyncio.Semaphore(2)

    def setup(self, app: web.Application) -> None:
        """Register the chat's pages, API, WebSocket, media and static routes."""
        app.router.add_get("/", self._rooms_page)
        app.router.add_get("/room/{chat_id}", self._room_page)
        app.router.add_get("/api/rooms/{chat_id}/messages", self._history)
        app.router.add_post("/api/rooms/{chat_id}/voice", self._voice)
        app.router.add_get("/ws/{chat_id}", self._socket)
        app.router.add_get("/media/{name}", self._media)
        app.router.add_static("/static/", WEB_DIR / "static")
        app.on_shutdown.append(self._close_sockets)

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Store a bot message in the room and show it live to everyone there."""
        match message:
            case OutgoingText():
                fields: dict[str, Any] = {"lesson_slug": message.lesson_slug}
            case OutgoingAudio():
                name = self._servable(message.path).name
                fields = {"text": message.caption, "audio_url": f"/media/{name}",
                          "audio_duration": message.duration_s,
                          "lesson_slug": message.lesson_slug}
                if message.subtitles is not None:
                    srt = self._servable(message.subtitles).name
                    fields["subtitle_url"] = f"/media/{srt}"
            case _:
                raise Unsupported(f"the web chat cannot carry {type(message).__name__}")
        try:
            with session(self.engine) as db:
                group = web_group(db, chat_id)
                if group is None:
                    raise AdapterError(f"no such web room: {chat_id!r}")
                if isinstance(message, OutgoingText):
                    fields |= bot_text(db, group_id(group), message)
                payload = store_message(db, ChatMessage(
                    group_id=group_id(group), sender_id=BOT_SENDER_ID,
                    sender_name=texts.BOT_NAME, from_bot=True, **fields))
        except SQLAlchemyError as exc:
            raise AdapterError(f"could not store the web message: {exc}", transient=True) from exc
        await self._broadcast(chat_id, payload)
        return str(payload["id"])

    def _servable(self, path: Path) -> Path:
        """The audio file resolved, if /media/ can serve it; else AdapterError."""
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

    async def _broadcast(self, chat_id: str, payload: dict[str, Any]) -> None:
        data = _dumps({"type": "message", "message": payload})
        sockets = [ws for ws in self._rooms.get(chat_id, ()) if not ws.closed]
        results = await asyncio.gather(*(ws.send_str(data) for ws in sockets),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.debug("web chat: a socket in %s went away: %r", chat_id, result)

    def _render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self._templates.get_template(template).render(
            notice=self.notice, texts=texts, v=self._asset_version, **context)
        return web.Response(text=html, status=status, content_type="text/html",
                            headers=SECURITY_HEADERS)

    async def _rooms_page(self, request: web.Request) -> web.Response:
        with session(self.engine) as db:
            rooms = room_list(db, utcnow())
        return self._render("chat_rooms.html", rooms=rooms)

    async def _room_page(self, request: web.Request) -> web.Response:
        with session(self.engine) as db:
            group = web_group(db, request.match_info["chat_id"])
            if group is None:
                return self._render("chat_not_found.html", status=404)
            rows, more = page(db, group_id(group), before=None, after=None, limit=DEFAULT_LIMIT)
            history = {"messages": describe(db, rows), "has_more": more}
        return self._render("chat_room.html", group=group, history=history, strings=BROWSER_TEXTS)

    async def _history(self, request: web.Request) -> web.Response:
        limit = _number(request, "limit", MAX_LIMIT) or DEFAULT_LIMIT
        before, after = _number(request, "before"), _number(request, "after")
        with session(self.engine) as db:
            group = web_group(db, request.match_info["chat_id"])
            if group is None:
                return _json_error(404, texts.WEB_NOT_FOUND_TITLE)
            rows, more = page(db, group_id(group), before=before, after=after, limit=limit)
            return web.json_response({"messages": describe(db, rows), "has_more": more},
                                     dumps=_dumps)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        chat_id = request.match_info["chat_id"]
        with session(self.engine) as db:
            group = web_group(db, chat_id)
        if group is None:
            raise web.HTTPNotFound(text=texts.WEB_NOT_FOUND_TITLE)
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        room = self._rooms.setdefault(chat_id, set())
        room.add(ws)
        speaker: Speaker | None = None
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    await _reply_error(ws, texts.WEB_ERROR_FORMAT)
                    continue
                try:
                    speaker = await self._on_frame(ws, group, speaker, frame.data)
                except SQLAlchemyError:
                    log.exception("web chat: database error in room %s", chat_id)
                    await _reply_error(ws, texts.WEB_ERROR_BUSY)
        finally:
            room.discard(ws)
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, group: Group, speaker: Speaker | None,
                        data: str) -> Speaker | None:
        """Handle one client frame; return who is speaking on this socket afterwards."""
        try:
            request = json.loads(data)
        except ValueError:
            request = None
        kind = request.get("type") if isinstance(request, dict) else None
        if kind == "hello" and isinstance(request, dict):
            return await self._hello(ws, group, request) or speaker
        if kind != "post" or not isinstance(request, dict):
            await _reply_error(ws, texts.WEB_ERROR_FORMAT)
        elif speaker is None:
            await _reply_error(ws, texts.WEB_ERROR_NO_HELLO)
        elif not isinstance(text := request.get("text"), str):
            await _reply_error(ws, texts.WEB_ERROR_FORMAT)
        elif not (text := text.replace("\x00", "").strip()):
            await _reply_error(ws, texts.WEB_ERROR_EMPTY)
        elif len(text) > MAX_TEXT:
            await _reply_error(ws, texts.WEB_ERROR_TOO_LONG.format(limit=MAX_TEXT))
        else:
            with session(self.engine) as db:
                payload = store_message(db, ChatMessage(
                    group_id=group_id(group), sender_id=speaker.user_id,
                    sender_name=speaker.name, text=text))
            await self._deliver(group, speaker, payload, text=text)
        return speaker

    async def _hello(self, ws: web.WebSocketResponse, group: Group, request: dict[str, Any]
                     ) -> Speaker | None:
        """Check a hello and record the member; None (after telling why) if it is refused."""
        user_id, name = request.get("user_id"), request.get("name")
        if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
            await _reply_error(ws, texts.WEB_ERROR_USER_ID)
            return None
        name = clean_name(name)
        if not 1 <= len(name) <= MAX_NAME:
            await _reply_error(ws, texts.WEB_ERROR_NAME)
            return None
        with session(self.engine) as db:
            upsert_member(db, group_id(group), user_id, name)
        await ws.send_str(_dumps({"type": "ready", "name": name, "tag": sender_tag(user_id)}))
        return Speaker(user_id, name)

    async def _deliver(self, group: Group, speaker: Speaker, payload: dict[str, Any], *,
                       text: str = "", voice: Path | None = None) -> None:
        """Show a stored member message to the room, then hand it to the bot."""
        await self._broadcast(group.chat_id, payload)
        if self.on_event is None:
            return
        event = IncomingMessage(platform=self.platform, chat_id=group.chat_id,
                                message_id=str(payload["id"]), user_id=speaker.user_id,
                                user_name=speaker.name, text=text, voice=voice)
        try:
            await self.on_event(event)
        except Exception:  # the handler's faults must not lose the post or close the socket
            log.exception("web chat: handling message %s in %s failed", event.message_id,
                          group.chat_id)

    async def _voice(self, request: web.Request) -> web.Response:
        """A member's voice message: checked, transcoded to MP3, stored, shown, handed on."""
        with session(self.engine) as db:
            group = web_group(db, request.match_info["chat_id"])
        if group is None:
            return _json_error(404, texts.WEB_NOT_FOUND_TITLE)
        try:
            upload = await _read_voice(request)
            with session(self.engine) as db:
                name = voice_sender(db, group_id(group), upload.user_id, upload.name)
            speaker = Speaker(upload.user_id, name)
            async with self._transcoding:
                mp3, seconds = await asyncio.to_thread(prepare_voice, upload.audio)
        except VoiceRefused as refused:
            return _json_error(refused.status, refused.text)
        path = await asyncio.to_thread(save_voice, self.audio_dir, mp3)
        try:
            with session(self.engine) as db:
                upsert_member(db, group_id(group), speaker.user_id, speaker.name)
                payload = store_message(db, ChatMessage(
                    group_id=group_id(group), sender_id=speaker.user_id,
                    sender_name=speaker.name, audio_url=f"/media/{path.name}",
                    audio_duration=round(seconds, 2)))
        except SQLAlchemyError:
            log.exception("web chat: could not store a voice message in %s", group.chat_id)
            path.unlink(missing_ok=True)
            return _json_error(503, texts.WEB_ERROR_BUSY)
        await self._deliver(group, speaker, payload, voice=path)
        return web.json_response({"message": payload}, status=201, dumps=_dumps)

    async def _media(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if not MEDIA_NAME.fullmatch(name):
            raise web.HTTPNotFound()
        try:
            resolved = (self.audio_dir / name).resolve(strict=True)
        except OSError as exc:
            raise web.HTTPNotFound() from exc
        if resolved.parent != self.audio_dir.resolve() or not resolved.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(resolved, headers={
            hdrs.CONTENT_TYPE: MEDIA_TYPES[name.rsplit(".", 1)[1]],
            hdrs.CACHE_CONTROL: "public, max-age=604800"})

    async def _close_sockets(self, _app: web.Application) -> None:
        sockets = [ws for room in self._rooms.values() for ws in room]
        await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutdown")
                               for ws in sockets), return_exceptions=True)


async def _read_voice(request: web.Request) -> VoiceUpload:
    """The multipart fields user_id, name and audio, each read only up to its limit."""
    if (request.content_length or 0) > MAX_VOICE_BYTES + MAX_FORM_EXTRA:
        raise VoiceRefused(413, texts.WEB_VOICE_TOO_BIG)
    try:
        fields = await _read_form(request)
        user_id, name = (fields.get(key, b"").decode() for key in ("user_id", "name"))
    except (AssertionError, KeyError, ValueError, HttpProcessingError) as exc:
        # aiohttp's multipart reader says "malformed" with any of these.
        raise VoiceRefused(400, texts.WEB_ERROR_FORMAT) from exc
    if "audio" not in fields:
        raise VoiceRefused(400, texts.WEB_ERROR_FORMAT)
    return VoiceUpload(user_id, name, fields["audio"])


async def _read_form(request: web.Request) -> dict[str, bytes]:
    fields: dict[str, bytes] = {}
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader) or not part.name or part.name in fields:
            raise ValueError("not a flat form with named fields")
        limit = MAX_VOICE_BYTES if part.name == "audio" else MAX_FIELD_BYTES
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            if len(data) > limit and part.name == "audio":
                raise VoiceRefused(413, texts.WEB_VOICE_TOO_BIG)
            if len(data) > limit:
                raise ValueError(f"field {part.name} is too long")
        fields[part.name] = bytes(data)
    return fields


def _json_error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status, dumps=_dumps)


def _number(request: web.Request, name: str, high: int = 2**62) -> int | None:
    """A whole-number query parameter from 1 to `high`, None when absent; else a 400."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= high:
        error = texts.WEB_ERROR_PARAM.format(name=name, low=1, high=high)
        raise web.HTTPBadRequest(text=_dumps({"error": error, "parameter": name}),
                                 content_type="application/json")
    return int(raw)


async def _reply_error(ws: web.WebSocketResponse, text: str) -> None:
    await ws.send_str(_dumps({"type": "error", "text": text}))


def _asset_version(folder: Path) -> str:
    """A short hash of the static files, so browsers fetch new ones after an upgrade."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("chat*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]
