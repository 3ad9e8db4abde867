"""A fake Telegram Bot API server, faithful to Telegram's wire format and flood limits."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import json
import math
import re
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
from aiohttp import web
from aiohttp.web_request import FileField

from tests.support.loopback import serve

# Routes `/bot<token>/<method>` (any case; query, JSON, form and multipart parameters) and
# `/file/bot<token>/<path>`; enforces 4,096-character texts, 1,024-character captions, OGG/Opus
# voice uploads (or a voice's file_id from an earlier upload, sent without decoding again; an
# unknown one answered 400 "wrong file identifier") and the published flood limits (30/s overall,
# 1/s per chat, 20/min per group, answered with 429 and `parameters.retry_after`); long polling
# with offset confirmation and 409 conflicts; webhook delivery with the secret header;
# group->supergroup migration; private messages only to users who started the bot (else 403 "bot
# can't initiate conversation with a user", or "bot was blocked by the user"); members' voice notes
# and photos (every size Telegram makes, smallest first, each fetched by getFile then /file/...),
# with their caption, and replies embedding the replied-to message (the bot's own with its text);
# injected 5xx and slowness.
# `time_scale` shrinks every window and wait (0.1: ten times faster than real).

TOKEN = "7000001:AAHfakeTokenForYehuaTests_0123456789"
BOT = {"id": 7000001, "is_bot": True, "first_name": "夜话", "username": "yehua_bot"}
MAX_TEXT, MAX_CAPTION = 4096, 1024
GLOBAL_PER_SECOND, CHAT_PER_SECOND, GROUP_PER_MINUTE = 30, 1, 20
OBJECT_PARAMS = {"reply_parameters", "entities", "caption_entities", "allowed_updates"}
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
FAULTS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
          504: "Gateway Timeout", 429: "Too Many Requests"}
Answer = tuple[int, dict[str, Any]]


@dataclass
class Sent:
    """One message the bot sent, as the fake stored it."""

    chat_id: int
    kind: str  # "text" or "voice"
    at: float  # the loop's clock when it was accepted
    message_id: int
    text: str = ""  # the text, or the voice's caption
    entities: list[dict[str, Any]] | None = None
    reply_to: int | None = None
    voice: bytes = b""
    duration: int | None = None  # as the bot declared it
    seconds: float = 0.0  # as decoded from the upload


@dataclass
class FakeTelegram:
    """The fake's state: what it received, what it will deliver, how it misbehaves."""

    token: str = TOKEN
    time_scale: float = 1.0
    https_webhooks_only: bool = True
    slack: float = 0.02  # share of a window forgiven, for clock jitter between two processes
    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    floods: int = 0  # 429s answered
    updates: list[dict[str, Any]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # offsets getUpdates was called with
    webhook: dict[str, Any] | None = None
    webhook_answers: list[int] = field(default_factory=list)
    statuses: dict[tuple[int, int], str] = field(default_factory=dict)
    moved: dict[int, int] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)  # users who opened a private chat
    blocked: set[int] = field(default_factory=set)  # users who blocked the bot
    files: dict[str, bytes] = field(default_factory=dict)
    voices: dict[str, Sent] = field(default_factory=dict)  # file_id -> the upload it names
    voice_uploads: int = 0  # sendVoice calls that carried the file's bytes
    delay: float = 0.0
    _faults: list[list[Any]] = field(default_factory=list)
    _next_update: int = 500
    _uploaded: int = 0
    _ids: dict[int, int] = field(default_factory=dict)
    _windows: dict[Any, deque[float]] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _generation: int = 0
    _closing: bool = False
    _pusher: asyncio.Task[None] | None = None

    # --- what tests do ---------------------------------------------------------------------
    def fail(self, status: int = 502, times: int = 1, method: str | None = None) -> None:
        """Answer the next `times` calls (of `method`, or any) with HTTP `status` (429: flood
        control with `retry_after`, as Telegram answers when its dynamic limits are lower)."""
        self._faults.append([status, times, method.lower() if method else None])

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (its update_id is assigned) for getUpdates or the webhook."""
        self._next_update += 1
        update = {"update_id": self._next_update, **update}
        self.updates.append(update)
        self._wake()
        return update

    def say(self, chat_id: int, user: dict[str, Any], text: str, *,
            reply_to: int | None = None) -> dict[str, Any]:
        """Someone writes in a chat; `/commands` get their bot_command entity."""
        message = self._message(chat_id, user, text=text)
        head = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if head:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": head.end()}]
        if reply_to is not None:
            message["reply_to_message"] = self._original(chat_id, reply_to)
        return self.enqueue({"message": message})

    def say_voice(self, chat_id: int, user: dict[str, Any], ogg: bytes, duration: int,
                  caption: str = "") -> dict[str, Any]:
        """Someone sends a voice message (an OGG/Opus file the fake will serve), with a
        caption if given (as a forwarded or captioned voice comes)."""
        file_id = f"voice{len(self.files) + 1:04d}"
        self.files[file_id] = ogg
        voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration,
                 "mime_type": "audio/ogg", "file_size": len(ogg)}
        fields: dict[str, Any] = {"voice": voice}
        if caption:
            fields["caption"] = caption
        return self.enqueue({"message": self._message(chat_id, user, **fields)})

    def say_photo(self, chat_id: int, user: dict[str, Any], sizes: list[tuple[int, int, bytes]],
                  caption: str = "", *, reply_to: int | None = None,
                  album: str | None = None) -> dict[str, Any]:
        """Someone sends a photo: Telegram names every size it made (smallest first), each a
        file served through getFile; the caption comes as `caption`."""
        photo = []
        for width, height, data in sizes:
            file_id = f"photo{len(self.files) + 1:04d}"
            self.files[file_id] = data
            photo.append({"file_id": file_id, "file_unique_id": f"u{file_id}", "width": width,
                          "height": height, "file_size": len(data)})
        fields: dict[str, Any] = {"photo": photo}
        if caption:
            fields["caption"] = caption
        if reply_to is not None:
            fields["reply_to_message"] = self._original(chat_id, reply_to)
        if album is not None:  # one of several photos sent together: one update each
            fields["media_group_id"] = album
        return self.enqueue({"message": self._message(chat_id, user, **fields)})

    def _original(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The replied-to message as Telegram embeds it: the bot's own with its text."""
        original: dict[str, Any] = {"message_id": message_id,
                                    "chat": _chat(chat_id),
                                    "date": 1764100000}
        sent = next((s for s in self.sent if s.chat_id == chat_id
                     and s.message_id == message_id), None)
        if sent is not None:
            original["from"] = BOT
            original["text" if sent.kind == "text" else "caption"] = sent.text
        return original

    def start_bot(self, user: dict[str, Any]) -> dict[str, Any]:
        """Someone opens a private chat with the bot and sends /start: it may write to them."""
        self.started.add(int(user["id"]))
        self.blocked.discard(int(user["id"]))
        return self.say(int(user["id"]), user, "/start")

    def forget_voices(self) -> None:
        """The file_ids of uploaded voices stop working (Telegram may retire them): sending
        by one of them is refused from now on, as a file_id another bot was given would be."""
        self.voices.clear()

    def block_bot(self, user: dict[str, Any]) -> None:
        """Someone blocks the bot: its private messages to them fail from now on."""
        self.blocked.add(int(user["id"]))

    def migrate(self, old: int, new: int, by: dict[str, Any]) -> None:
        """A group becomes a supergroup: sends to `old` fail from now on, both notes arrive."""
        self.moved[old] = new
        self.enqueue({"message": self._message(old, by, migrate_to_chat_id=new)})
        self.enqueue({"message": self._message(new, by, migrate_from_chat_id=old)})

    def to(self, chat_id: int, kind: str | None = None) -> list[Sent]:
        """What the bot sent to one chat (of one kind), in order."""
        return [s for s in self.sent if s.chat_id == chat_id and kind in (None, s.kind)]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method.lower()]

    # --- the server --------------------------------------------------------------------------
    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _message(self, chat_id: int, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {"message_id": self._new_id(chat_id), "date": 1764100000, "chat": _chat(chat_id),
                "from": {"is_bot": False, **user}, **fields}

    def _new_id(self, chat_id: int) -> int:
        self._ids[chat_id] = self._ids.get(chat_id, 0) + 1
        return self._ids[chat_id]

    async def api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"].lower()
        params = await _params(request)  # uploads are read here, before the handler returns
        self.calls.append((method, params))
        if self.delay:
            await asyncio.sleep(self.delay)
        for fault in self._faults:
            if fault[1] > 0 and fault[2] in (None, method):
                fault[1] -= 1
                if fault[0] == 429:  # flood control stricter than published, as it may be
                    self.floods += 1
                    return _error(429, "Too Many Requests: retry after 1",
                                  retry_after=1 if self.time_scale == 1 else self.time_scale)
                return _error(fault[0], FAULTS.get(fault[0], "Bad Gateway"))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        status, body = await handler(params)
        return web.json_response(body, status=status)

    async def file(self, request: web.Request) -> web.Response:
        name = request.match_info["path"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if request.match_info["token"] != self.token or name not in self.files:
            return _error(404, "Not Found")
        kind = "image/jpeg" if name.startswith("photo") else "audio/ogg"
        return web.Response(body=self.files[name], content_type=kind)

    async def _m_getme(self, _params: dict[str, Any]) -> Answer:
        return _ok(BOT)

    async def _m_getfile(self, params: dict[str, Any]) -> Answer:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return _fail(400, "Bad Request: invalid file_id")
        return _ok({"file_id": file_id, "file_unique_id": f"u{file_id}",
                    "file_size": len(self.files[file_id]),
                    "file_path": f"photos/{file_id}.jpg" if file_id.startswith("photo")
                    else f"voice/{file_id}.oga"})

    async def _m_getchatmember(self, params: dict[str, Any]) -> Answer:
        chat, user = _chat_id(params.get("chat_id")), _chat_id(params.get("user_id"))
        status = self.statuses.get((chat, user), "member")  # type: ignore[arg-type]
        return _ok({"status": status, "user": {"id": user, "is_bot": False, "first_name": "?"}})

    async def _m_sendmessage(self, params: dict[str, Any]) -> Answer:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return _fail(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            return _fail(400, "Bad Request: message is too long")
        return self._deliver(params, Sent(0, "text", 0.0, 0, text=text,
                                          entities=_object(params.get("entities"))))

    async def _m_sendvoice(self, params: dict[str, Any]) -> Answer:
        voice, caption = params.get("voice"), str(params.get("caption", ""))
        if len(caption.encode("utf-16-le")) // 2 > MAX_CAPTION:
            return _fail(400, "Bad Request: message caption is too long")
        duration = params.get("duration")
        declared = int(duration) if duration else None
        if isinstance(voice, str) and voice:  # a file Telegram already has: nothing to decode
            known = self.voices.get(voice)
            if known is None:
                return _fail(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return self._deliver(params, Sent(0, "voice", 0.0, 0, text=caption,
                                              voice=known.voice, seconds=known.seconds,
                                              duration=declared or known.duration))
        if not isinstance(voice, bytes):
            return _fail(400, "Bad Request: there is no voice in the request")
        self.voice_uploads += 1
        seconds = await asyncio.to_thread(_opus_seconds, voice)
        if seconds is None:
            return _fail(400, "Bad Request: wrong file type: voice must be OGG/Opus")
        return self._deliver(params, Sent(0, "voice", 0.0, 0, text=caption, voice=voice,
                                          seconds=seconds, duration=declared))

    def _deliver(self, params: dict[str, Any], sent: Sent) -> Answer:
        chat_id = _chat_id(params.get("chat_id"))
        if not isinstance(chat_id, int):
            return _fail(400, "Bad Request: chat not found")
        if chat_id > 0 and chat_id in self.blocked:
            return _fail(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and chat_id not in self.started:
            return _fail(403, "Forbidden: bot can't initiate conversation with a user")
        if chat_id in self.moved:
            return _fail(400, "Bad Request: group chat was upgraded to a supergroup chat",
                         migrate_to_chat_id=self.moved[chat_id])
        now = asyncio.get_running_loop().time()
        wait = self._flood_wait(chat_id, now)
        if wait is not None:
            self.floods += 1
            after = math.ceil(wait / self.time_scale - 1e-9)
            retry_after: float = after if self.time_scale == 1 else after * self.time_scale
            return _fail(429, f"Too Many Requests: retry after {after}", retry_after=retry_after)
        for key in ("all", chat_id, ("minute", chat_id)):
            self._windows.setdefault(key, deque()).append(now)
        reply = _object(params.get("reply_parameters"))
        sent.chat_id, sent.at, sent.message_id = chat_id, now, self._new_id(chat_id)
        sent.reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        self.sent.append(sent)
        message: dict[str, Any] = {"message_id": sent.message_id, "date": int(now),
                                   "chat": {"id": chat_id}, "from": BOT}
        if sent.kind == "text":
            message["text"] = sent.text
        else:
            # A fresh file_id for every upload, usable by this bot from now on; the same audio
            # keeps its file_unique_id.
            self._uploaded += 1
            file_id = f"AwACAgIAAxkDAAI{self._uploaded:06d}"
            self.voices[file_id] = sent
            message["voice"] = {"file_id": file_id,
                                "file_unique_id": "AgAD" + hashlib.sha256(sent.voice)
                                .hexdigest()[:12],
                                "mime_type": "audio/ogg", "file_size": len(sent.voice),
                                "duration": sent.duration or round(sent.seconds)}
        return _ok(message)

    def _flood_wait(self, chat_id: int, now: float) -> float | None:
        """Seconds until this send would fit all three windows, or None if it fits now."""
        limits = [("all", GLOBAL_PER_SECOND, 1.0), (chat_id, CHAT_PER_SECOND, 1.0)]
        if chat_id < 0:
            limits.append((("minute", chat_id), GROUP_PER_MINUTE, 60.0))
        waits = []
        for key, limit, length in limits:
            span = length * self.time_scale * (1 - self.slack)
            times = self._windows.setdefault(key, deque())
            while times and times[0] <= now - span:
                times.popleft()
            if len(times) >= limit:
                waits.append(times[-limit] + span - now)
        return max(waits) if waits else None

    async def _m_getupdates(self, params: dict[str, Any]) -> Answer:
        if self.webhook is not None:
            return _fail(409, "Conflict: can't use getUpdates method while webhook is active; "
                              "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        self.offsets.append(offset)
        if offset > 0:  # confirmed: forgotten
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        self._generation += 1
        mine = self._generation
        self._wake()  # an older poller still waiting is now terminated
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout") or 0)
        while not self.updates and not self._closing:
            changed = self._changed
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                break
            if self._generation != mine:
                return _fail(409, "Conflict: terminated by other getUpdates request; make "
                                  "sure that only one bot instance is running")
        return _ok(self.updates[:limit])

    async def _m_setwebhook(self, params: dict[str, Any]) -> Answer:
        url, secret = str(params.get("url", "")), params.get("secret_token")
        if not url:
            return await self._m_deletewebhook(params)
        if self.https_webhooks_only and not url.startswith("https://"):
            return _fail(400, "Bad Request: bad webhook: An HTTPS URL must be provided for "
                              "webhook")
        if secret is not None and not SECRET.fullmatch(str(secret)):
            return _fail(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret}
        if self._pusher is None:
            self._pusher = asyncio.create_task(self._push())
        return _ok(True)

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Answer:
        self.webhook = None
        self._wake()
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self.updates.clear()
        return _ok(True)

    async def _push(self) -> None:
        """Webhook delivery: each update POSTed with the secret header, retried on non-2xx."""
        async with aiohttp.ClientSession() as http:
            while self.webhook is not None and not self._closing:
                if not self.updates:
                    await self._changed.wait()
                    continue
                update, hook = self.updates[0], self.webhook
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} \
                    if hook["secret_token"] else {}
                try:
                    async with http.post(hook["url"], json=update, headers=headers) as response:
                        status = response.status
                except aiohttp.ClientError:
                    status = 0
                self.webhook_answers.append(status)
                if 200 <= status < 300 or self.webhook_answers[-5:].count(status) == 5:
                    self.updates.remove(update)  # delivered, or given up after 5 attempts
                else:
                    await asyncio.sleep(self.time_scale)
        self._pusher = None

    async def close(self) -> None:
        self._closing = True
        self._wake()
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)


def _chat(chat_id: int) -> dict[str, Any]:
    kind = "private" if chat_id > 0 else "supergroup" if chat_id < -10**12 else "group"
    return {"id": chat_id, "type": kind, "title": "枫树村村民群"}


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}


def _fail(code: int, description: str, **parameters: Any) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def _error(code: int, description: str, **parameters: Any) -> web.Response:
    return web.json_response(_fail(code, description, **parameters)[1], status=code)


def _object(value: Any) -> Any:
    """A JSON-typed parameter, which forms and query strings carry as serialized JSON."""
    return json.loads(value) if isinstance(value, str) and value else value


def _chat_id(value: Any) -> int | str | None:
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
        return int(value)
    return value if isinstance(value, str) and value.startswith("@") else None


async def _params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and the body, in any of the Bot API's encodings."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for key, value in (await request.post()).items():
            # aiohttp closes uploaded files when the handler returns: read them now.
            if isinstance(value, FileField):
                params[key] = value.file.read()
            else:
                params[key] = value if isinstance(value, str) else bytes(value)
    for key in OBJECT_PARAMS & params.keys():
        params[key] = _object(params[key])
    return params


@functools.lru_cache(maxsize=64)
def _opus_seconds(data: bytes) -> float | None:
    """The length of an OGG/Opus file, decoded; None if it is anything else.

    Cached: a lesson's voice uploaded to a thousand groups is the same bytes every time, and
    decoding it again would make the fake, not the bot, the bottleneck of a fan-out bench."""
    if not data.startswith(b"OggS") or b"OpusHead" not in data[:200]:
        return None
    try:
        with av.open(io.BytesIO(data), "r", format="ogg") as container:
            stream = container.streams.audio[0]
            if stream.codec_context.name != "opus":
                return None
            return sum(f.samples / f.sample_rate for f in container.decode(stream))
    except (av.error.FFmpegError, IndexError):
        return None


@asynccontextmanager
async def start_fake_telegram(**options: Any) -> AsyncIterator[FakeTelegram]:
    """Run the fake on a loopback port; `fake.url` is the API base for YEHUA_TELEGRAM_API_BASE."""
    fake = FakeTelegram(**options)
    app = web.Application(client_max_size=60 * 1024 * 1024)
    app.router.add_route("*", "/bot{token}/{method}", fake.api)
    app.router.add_get("/file/bot{token}/{path:.+}", fake.file)
    async with serve(app, shutdown_timeout=0.5) as url:
        fake.url = url
        try:
            yield fake
        finally:
            await fake.close()  # before the server stops, so held long polls return
