"""A fake NapCat (OneBot v11), faithful to its HTTP API, event posts and reverse WebSocket."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiohttp import web

from tests.support.loopback import serve

# The HTTP API at `/:action` (GET or POST; query, JSON or form parameters, strings coerced to
# numbers; `_async` suffix) behind a Bearer/`access_token` check that answers as NapCat does (403
# `token verify failed!` for a missing or wrong token) or as the spec says (401 missing, 403
# wrong); `send_group_msg`/`send_msg` with text, at, reply and record segments (array or CQ
# string), `send_private_msg` (a friend, or a member of `group_id` by temporary session; failed
# as NapCat fails an action for `no_private` users), `get_record`, `get_group_member_info`,
# `get_login_info`, `can_send_record`, `get_image` (the picture's path and its base64, as NapCat
# answers). Received pictures come as image segments whose `url` points at QQ's picture server,
# played by this fake at `/download/<file>` (switched off with `cdn_down`, as an expired rkey). It
# reports events to the bot by HTTP POST with `X-Self-ID` and `X-Signature`, and connects to the
# bot as a reverse-WebSocket client answering API frames by `echo`. Record segments are decoded
# (base64://, http(s)://, file://) and must be audio ffmpeg can read. Limits: a body size cap
# (413), a text length cap and a per-account send frequency cap that fail the call as NapCat
# (retcode 200 over HTTP, 1200 over WebSocket) or go-cqhttp (retcode 100 SEND_MSG_API_ERROR) do;
# QQ's own wording is undocumented, the fake's is illustrative. Faults on request: 5xx,
# frequency refusals, ffmpeg missing, hanging.

SELF_ID = 123456789
TOKEN = "napcat-test-token-0123456789"
SECRET = "s3cr3t"
NUMERIC = {"group_id", "user_id", "message_id", "self_id"}
FLOOD_TEXT = "发送失败：消息发送频率过快，请稍后再试"
VOICE_FAILED = "语音转换失败, 请检查语音文件是否正常"
PRIVATE_REFUSED = "发送私聊消息失败：对方不是好友，也不接受临时会话"
Answer = tuple[int, dict[str, Any]]


@dataclass
class Sent:
    """One message the bot posted to a group, as the fake stored it."""

    group_id: int
    message_id: int
    segments: list[dict[str, Any]]
    via: str  # "http" or "ws"
    audio: bytes = b""  # a record segment's audio, decoded from its file
    audio_codec: str = ""
    audio_seconds: float = 0.0
    # A private message's recipient; group_id is then the group of its temporary session.
    user_id: int | None = None
    # When the fake took it (time.monotonic, one clock for every process on the machine).
    at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def text(self) -> str:
        return "".join(str(s["data"].get("text", "")) for s in self.segments
                       if s["type"] == "text")

    @property
    def record_file(self) -> str:
        """The `file` of the record segment ("" without one)."""
        return str((self.first("record") or {}).get("file", ""))

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((s["data"] for s in self.segments if s["type"] == kind), None)


@dataclass
class FakeNapCat:
    """The fake's state: what it received, its members and voices, how it misbehaves."""

    token: str = TOKEN
    style: str = "napcat"  # "napcat", "spec" (401/404 as the spec says) or "gocq" (floods)
    self_id: int = SELF_ID
    max_text: int = 4500
    max_body: int = 32 * 1024 * 1024
    frequency: tuple[int, float] | None = None  # at most N sends per so many seconds
    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each failed send failed
    members: dict[tuple[int, int], str] = field(default_factory=dict)  # -> role
    voices: dict[str, bytes] = field(default_factory=dict)  # get_record: file -> MP3
    images: dict[str, bytes] = field(default_factory=dict)  # received pictures: file -> bytes
    cdn_down: bool = False  # QQ's picture server refuses downloads (expired rkey): get_image
    no_private: set[int] = field(default_factory=set)  # refuse private (and temporary) messages
    delay: float = 0.0  # seconds each send takes (a slow account): taken, then answered
    _faults: list[str] = field(default_factory=list)
    _window: deque[float] = field(default_factory=deque)
    _next_id: int = 1000
    _hang: asyncio.Event = field(default_factory=asyncio.Event)
    _server: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def start(self) -> None:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("*", "/{action}", self._http)
        app.router.add_get("/download/{file}", self._cdn)
        app.router.add_route("*", "/{action}/", self._http)
        self.url = await self._server.enter_async_context(serve(app, shutdown_timeout=0.5))

    async def close(self) -> None:
        self._hang.set()
        await self._server.aclose()

    def fail_next(self, count: int, kind: str, *, after: int = 0) -> None:
        """Fail `count` sends, `after` good ones from now: "frequency", "server_error",
        "ffmpeg" (its ffmpeg is missing), "hang" (no answer until the fake closes)."""
        self._faults += [""] * after + [kind] * count

    def in_group(self, group_id: int) -> list[Sent]:
        return [s for s in self.sent if s.group_id == group_id and s.user_id is None]

    def answered(self, group_id: int) -> list[Sent]:
        """What the bot said to a group and, privately, to its members from it, in order."""
        return [s for s in self.sent if s.group_id == group_id]

    def to_user(self, user_id: int) -> list[Sent]:
        """What the bot sent privately to one QQ user."""
        return [s for s in self.sent if s.user_id == user_id]

    # --- the HTTP API ---------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        given = given or request.query.get("access_token", "")
        if self.token and given != self.token:
            if self.style == "napcat":
                return web.json_response({"message": "token verify failed!"}, status=403)
            return web.json_response({}, status=401 if not given else 403)
        try:
            params = await _params(request)
        except ValueError:
            return web.json_response({}, status=400)
        except TypeError:
            return web.json_response({}, status=406)
        status, body = await self.perform(request.match_info["action"], params, "http")
        return web.json_response(body, status=status, dumps=_dumps)

    async def perform(self, action: str, params: dict[str, Any], via: str) -> Answer:
        """Run one API action as NapCat does and answer (HTTP status, body)."""
        queued = action.endswith("_async")
        action = action.removesuffix("_async")
        self.calls.append((action, params, via))
        handler = getattr(self, f"_do_{action}", None)
        if handler is None:
            if self.style == "spec":
                return 404, {}
            return self._failed(f"不支持的Api {action}", via, retcode=200)
        answer: Answer = await handler(params, via)
        if queued and answer[1].get("status") == "ok":
            return 200, _response("async", 1, None)
        return answer

    def _failed(self, message: str, via: str, *, retcode: int | None = None) -> Answer:
        # NapCat reports a failing action with retcode 200 over HTTP and 1200 over WebSocket.
        code = retcode if retcode is not None else (200 if via == "http" else 1200)
        return 200, _response("failed", code, None, message)

    async def _do_send_msg(self, params: dict[str, Any], via: str) -> Answer:
        kind = params.get("message_type") or ("private" if "user_id" in params else "group")
        if kind == "private":
            return await self._do_send_private_msg(params, via)
        if "group_id" not in params:
            return self._failed("the fake only takes group or private messages", via)
        return await self._do_send_group_msg(params, via)

    async def _do_send_private_msg(self, params: dict[str, Any], via: str) -> Answer:
        user = params.get("user_id")
        if not isinstance(user, int):
            return 200, _response("failed", 1400 if via == "ws" else 400, None, "user_id")
        if user in self.no_private:
            # Neither a friend nor open to a temporary session from that group.
            self.refused.append("private")
            return self._failed(PRIVATE_REFUSED, via)
        segments = _segments(params.get("message"))
        if not segments:
            return self._failed("消息体无法解析, 请检查是否发送了不支持的消息类型", via)
        group = params.get("group_id")
        sent = Sent(group if isinstance(group, int) else 0, self._new_id(), segments, via,
                    user_id=user)
        self.sent.append(sent)
        await asyncio.sleep(self.delay)
        return 200, _response("ok", 0, {"message_id": sent.message_id})

    async def _do_send_group_msg(self, params: dict[str, Any], via: str) -> Answer:
        fault = self._faults.pop(0) if self._faults else None
        if fault == "hang":
            await self._hang.wait()
        if fault == "server_error":
            return 500, {}
        if fault == "frequency" or self._too_often():
            self.refused.append("frequency")
            if self.style == "gocq":
                return 200, _response("failed", 100, None, "SEND_MSG_API_ERROR",
                                      wording="请参考 go-cqhttp 端输出")
            return self._failed(FLOOD_TEXT, via)
        if not isinstance(params.get("group_id"), int):
            return 200, _response("failed", 1400 if via == "ws" else 400, None, "group_id")
        segments = _segments(params.get("message"))
        if not segments:
            return self._failed("消息体无法解析, 请检查是否发送了不支持的消息类型", via)
        if sum(len(str(s["data"].get("text", ""))) for s in segments) > self.max_text:
            self.refused.append("too long")
            return self._failed("消息过长", via)
        sent = Sent(params["group_id"], self._new_id(), segments, via)
        record = next((s["data"] for s in segments if s["type"] == "record"), None)
        if record is not None:
            audio = await _fetch(str(record.get("file", "")))
            decoded = _decode(audio) if audio and fault != "ffmpeg" else None
            if decoded is None:
                self.refused.append("voice")
                return self._failed(VOICE_FAILED, via, retcode=1200)
            sent.audio, (sent.audio_codec, sent.audio_seconds) = audio or b"", decoded
        self._window.append(time.monotonic())
        self.sent.append(sent)
        await asyncio.sleep(self.delay)
        return 200, _response("ok", 0, {"message_id": sent.message_id})

    def _too_often(self) -> bool:
        if self.frequency is None:
            return False
        count, seconds = self.frequency
        now = time.monotonic()
        while self._window and self._window[0] <= now - seconds:
            self._window.popleft()
        return len(self._window) >= count

    async def _do_get_record(self, params: dict[str, Any], via: str) -> Answer:
        file = str(params.get("file") or params.get("file_id") or "")
        if file not in self.voices:
            return self._failed("file not found", via)
        fmt = params.get("out_format")
        path = f"/root/.config/QQ/nt_qq/nt_data/Ptt/{file}"
        data: dict[str, Any] = {"file": path, "url": path, "file_size": str(
            len(self.voices[file])), "file_name": file}
        if fmt:
            if fmt != "mp3":
                return self._failed("转换失败 out_format 字段可能格式不正确", via)
            data |= {"file": f"{path}.mp3", "url": f"{path}.mp3",
                     "base64": base64.b64encode(self.voices[file]).decode()}
        return 200, _response("ok", 0, data)

    def image_segment(self, data: bytes, *, name: str = "") -> dict[str, Any]:
        """A picture someone sent, as NapCat reports the image segment: the file's name and a
        download URL on QQ's picture server (served by this fake)."""
        file = name or f"{hashlib.md5(data).hexdigest().upper()}.jpg"
        self.images[file] = data
        return {"type": "image", "data": {
            "file": file, "sub_type": 0, "file_size": str(len(data)),
            "url": f"{self.url}/download/{file}?appid=1407&fileid=EhQ&rkey=CAQSKA"}}

    async def _cdn(self, request: web.Request) -> web.Response:
        file = request.match_info["file"]
        if self.cdn_down or file not in self.images:
            return web.Response(status=404)
        return web.Response(body=self.images[file], content_type="image/jpeg")

    async def _do_get_image(self, params: dict[str, Any], via: str) -> Answer:
        file = str(params.get("file") or params.get("file_id") or "")
        if file not in self.images:
            return self._failed("file not found", via)
        path = f"/root/.config/QQ/nt_qq/nt_data/Pic/{file}"
        return 200, _response("ok", 0, {
            "file": path, "url": path, "file_size": str(len(self.images[file])),
            "file_name": file, "base64": base64.b64encode(self.images[file]).decode()})

    async def _do_get_group_member_info(self, params: dict[str, Any], via: str) -> Answer:
        key = (params.get("group_id"), params.get("user_id"))
        role = self.members.get(key)  # type: ignore[arg-type]
        if role is None:
            return self._failed("群成员不存在", via)
        return 200, _response("ok", 0, {"group_id": key[0], "user_id": key[1], "role": role,
                                        "nickname": f"群友{key[1]}", "card": ""})

    async def _do_get_login_info(self, params: dict[str, Any], via: str) -> Answer:
        return 200, _response("ok", 0, {"user_id": self.self_id, "nickname": "夜话"})

    async def _do_can_send_record(self, params: dict[str, Any], via: str) -> Answer:
        return 200, _response("ok", 0, {"yes": True})

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- events to the bot -----------------------------------------------------------------

    def group_message(self, group_id: int, user_id: int, message: str | list[dict[str, Any]],
                      *, role: str = "member", nickname: str = "", card: str = "",
                      string_format: bool = False) -> dict[str, Any]:
        """A group message event as NapCat reports it (array or CQ-string `message`)."""
        segments = _segments(message)
        raw = "".join(_cq(s) for s in segments)
        return {"self_id": self.self_id, "user_id": user_id, "time": int(time.time()),
                "message_id": self._new_id(), "message_seq": self._next_id,
                "real_id": self._next_id, "message_type": "group", "sub_type": "normal",
                "sender": {"user_id": user_id, "nickname": nickname or f"群友{user_id}",
                           "card": card, "role": role},
                "raw_message": raw, "font": 14,
                "message": raw if string_format else segments,
                "message_format": "string" if string_format else "array",
                "post_type": "message", "group_id": group_id}

    async def post_event(self, bot_url: str, event: dict[str, Any], *, secret: str | None = SECRET,
                         signature: str | None = None, self_id: str | None = None,
                         path: str = "/onebot/v11/", body: bytes | None = None
                         ) -> tuple[int, str]:
        """POST an event as NapCat's HTTP client does (or `body`, raw, signed the same way);
        answer the bot's (status, body)."""
        body = _dumps(event).encode() if body is None else body
        headers = {"Content-Type": "application/json"}
        headers["X-Self-ID"] = str(self.self_id) if self_id is None else self_id
        if not headers["X-Self-ID"]:
            del headers["X-Self-ID"]
        if signature is None and secret is not None:
            signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        if signature is not None:
            headers["X-Signature"] = signature
        async with aiohttp.ClientSession() as http, \
                http.post(bot_url + path, data=body, headers=headers) as response:
            return response.status, await response.text()

    @asynccontextmanager
    async def reverse_ws(self, bot_url: str, *, token: str | None = TOKEN,
                         path: str = "/onebot/v11/ws") -> AsyncIterator[ReverseClient]:
        """Connect to the bot as NapCat's reverse WebSocket client (role Universal)."""
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": "Universal",
                   "User-Agent": "OneBot/11"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(bot_url + path, headers=headers, max_msg_size=0) as ws:
            client = ReverseClient(self, ws)
            await client.send_event({"time": int(time.time()), "self_id": self.self_id,
                                     "post_type": "meta_event", "meta_event_type": "lifecycle",
                                     "sub_type": "connect"})
            reader = asyncio.create_task(client.answer_calls())
            try:
                yield client
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)


@dataclass
class ReverseClient:
    """The fake's end of a reverse WebSocket: sends events, answers API frames by echo."""

    fake: FakeNapCat
    ws: aiohttp.ClientWebSocketResponse

    async def send_event(self, event: dict[str, Any]) -> None:
        await self.ws.send_str(_dumps(event))

    async def answer_calls(self) -> None:
        async for frame in self.ws:
            request = json.loads(frame.data)
            _status, body = await self.fake.perform(str(request.get("action")),
                                                    _coerced(request.get("params") or {}), "ws")
            await self.ws.send_str(_dumps({**body, "echo": request.get("echo")}))


def _response(status: str, retcode: int, data: Any, message: str = "", *,
              wording: str | None = None) -> dict[str, Any]:
    return {"status": status, "retcode": retcode, "data": data, "message": message,
            "wording": message if wording is None else wording, "echo": None,
            "stream": "normal-action"}


async def _params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query, a JSON body or a form; TypeError for other content types."""
    params: dict[str, Any] = dict(request.query)
    params.pop("access_token", None)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("not an object")
            params |= body
        elif request.content_type in ("application/x-www-form-urlencoded",
                                      "multipart/form-data"):
            params |= {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        else:
            raise TypeError(request.content_type)
    return _coerced(params)


def _coerced(params: dict[str, Any]) -> dict[str, Any]:
    """Numbers sent as strings become numbers, as OneBot implementations accept them."""
    return {k: int(v) if k in NUMERIC and isinstance(v, str) and v.lstrip("-").isdigit() else v
            for k, v in params.items()}


_CQ_CODE = re.compile(r"\[CQ:([A-Za-z0-9_.-]+)((?:,[^\]]*)?)\]")


def _segments(message: Any) -> list[dict[str, Any]]:
    """`message` as a segment list: it may be an array, one segment or a CQ-code string."""
    if isinstance(message, dict):
        return [message]
    if isinstance(message, list):
        return [s for s in message if isinstance(s, dict) and s.get("type")]
    if not isinstance(message, str) or not message:
        return []
    out: list[dict[str, Any]] = []
    position = 0
    for match in _CQ_CODE.finditer(message):
        if match.start() > position:
            out.append({"type": "text", "data": {"text": _plain(message[position:match.start()])}})
        data = dict(pair.split("=", 1) for pair in match.group(2).split(",")[1:] if "=" in pair)
        out.append({"type": match.group(1),
                    "data": {k: _plain(v.replace("&#44;", ",")) for k, v in data.items()}})
        position = match.end()
    if position < len(message):
        out.append({"type": "text", "data": {"text": _plain(message[position:])}})
    return out


def _plain(text: str) -> str:
    return text.replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")


def _cq(segment: dict[str, Any]) -> str:
    """One segment as CQ code, escaped as the spec says (the raw_message form)."""
    def esc(value: Any, param: bool = False) -> str:
        text = str(value).replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
        return text.replace(",", "&#44;") if param else text

    if segment["type"] == "text":
        return esc(segment["data"].get("text", ""))
    params = "".join(f",{k}={esc(v, True)}" for k, v in segment["data"].items())
    return f"[CQ:{segment['type']}{params}]"


async def _fetch(file: str) -> bytes | None:
    """A record's `file` resolved as NapCat does: base64://, http(s):// or file://."""
    try:
        if file.startswith("base64://"):
            return base64.b64decode(file.removeprefix("base64://"), validate=True)
        if file.startswith(("http://", "https://")):
            async with aiohttp.ClientSession() as http, http.get(file) as response:
                return await response.read() if response.status == 200 else None
        if file.startswith("file://"):
            return await asyncio.to_thread(Path(file.removeprefix("file://")).read_bytes)
    except (ValueError, OSError, aiohttp.ClientError):
        return None
    return None


def _decode(audio: bytes) -> tuple[str, float] | None:
    """(codec, seconds) of audio ffmpeg can read in full, as NapCat's SILK encoder needs."""
    try:
        with av.open(io.BytesIO(audio), "r") as container:
            stream = container.streams.audio[0]
            samples = sum(int(frame.samples) for frame in container.decode(stream))
            rate = stream.codec_context.sample_rate or 1
            return stream.codec_context.codec.name, samples / rate
    except (av.error.FFmpegError, IndexError):
        return None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@asynccontextmanager
async def fake_napcat(**options: Any) -> AsyncIterator[FakeNapCat]:
    """A started fake NapCat, closed after the block."""
    fake = FakeNapCat(**options)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
