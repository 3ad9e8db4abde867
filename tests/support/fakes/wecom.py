"""A fake WeCom group robot webhook (send, upload_media) and the file host members' pictures
are fetched from; the callback is wecom_callback.py."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import av
import av.error
from aiohttp import BodyPartReader, web

from tests.support.loopback import serve

AMR_MAGIC = b"#!AMR\n"
TEXT_BYTES, MARKDOWN_BYTES = 2048, 4096
VOICE_BYTES, FILE_BYTES = 2 * 1024 * 1024, 20 * 1024 * 1024
VOICE_SECONDS = 60.0
MEDIA_TTL = 3 * 24 * 3600.0
MSGTYPES = ("text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card")


class ManualClock:
    """A clock the test moves by hand, shared by the fake and the adapter."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sent:
    """One call to /cgi-bin/webhook/send as the fake saw and answered it."""

    key: str
    body: Any
    at: float
    errcode: int
    errmsg: str


@dataclass
class Upload:
    """One call to /cgi-bin/webhook/upload_media."""

    key: str
    kind: str
    filename: str
    filelength: str | None
    data: bytes
    errcode: int
    media_id: str = ""
    seconds: float = 0.0


@dataclass
class Media:
    """An uploaded file, valid for three days for the robot that uploaded it."""

    key: str
    kind: str
    data: bytes
    seconds: float
    expires: float


@dataclass
class Fault:
    """How the next calls misbehave: an HTTP status, or a stall longer than any timeout."""

    status: int | None = None
    stall: float | None = None


@dataclass
class FakeWeCom:
    """The fake's state: what it received, what it delivered, how it misbehaves next."""

    keys: set[str]
    clock: Callable[[], float] = time.monotonic
    window: float = 60.0
    per_window: int = 20
    url: str = ""
    sends: list[Sent] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    media: dict[str, Media] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    # Members' pictures as WeCom's file host serves them (already sealed, for a smart robot).
    pictures: dict[str, bytes] = field(default_factory=dict)
    picture_downloads: int = 0
    _counted: dict[str, list[float]] = field(default_factory=dict)

    def host_picture(self, data: bytes) -> str:
        """Serve `data` as a member's picture for five minutes' worth of a test: its URL."""
        name = secrets.token_hex(8)
        self.pictures[name] = data
        return f"{self.url}/cgi-bin/aibot/media?file={name}&expire=300"

    async def picture(self, request: web.Request) -> web.Response:
        data = self.pictures.get(request.query.get("file", ""))
        if data is None:
            return _answer(40007, "invalid media_id")
        self.picture_downloads += 1
        return web.Response(body=data, content_type="application/octet-stream")

    def delivered(self, key: str) -> list[dict[str, Any]]:
        """The messages the group of robot `key` shows, in order."""
        return [s.body for s in self.sends if s.key == key and s.errcode == 0]

    def refused(self, errcode: int) -> list[Sent]:
        """The sends answered with `errcode`."""
        return [s for s in self.sends if s.errcode == errcode]

    def fill(self, key: str, count: int) -> None:
        """Messages someone else just posted through the same robot (they count too)."""
        self._counted.setdefault(key, []).extend([self.clock()] * count)

    def misbehave(self, times: int = 1, *, status: int | None = None,
                  stall: float | None = None) -> None:
        """The next `times` calls answer `status` (default 502), after `stall` seconds if set."""
        self.faults.extend(Fault(status, stall) for _ in range(times))

    def _over_limit(self, key: str) -> bool:
        now = self.clock()
        recent = [t for t in self._counted.get(key, []) if t > now - self.window]
        self._counted[key] = recent
        return len(recent) >= self.per_window

    async def _fault(self) -> web.Response | None:
        if not self.faults:
            return None
        fault = self.faults.pop(0)
        if fault.stall is not None:
            await asyncio.sleep(fault.stall)
        return web.Response(status=fault.status or 502, text="<html>Bad Gateway</html>")

    async def send(self, request: web.Request) -> web.Response:
        if (fault := await self._fault()) is not None:
            return fault
        key = request.query.get("key", "")
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            body = None
        code, message = self._check_send(key, body)
        if code == 0:
            self._counted.setdefault(key, []).append(self.clock())
        self.sends.append(Sent(key, body, self.clock(), code, message))
        return _answer(code, message)

    def _check_send(self, key: str, body: Any) -> tuple[int, str]:
        if key not in self.keys:
            return 93000, "invalid webhook url, hint: [fake]"
        if self._over_limit(key):
            return 45009, "api freq out of limit"
        if not isinstance(body, dict):
            return 40000, "invalid json request"  # [?] the real code for bad JSON is unverified
        kind = body.get("msgtype")
        if kind not in MSGTYPES or not isinstance(body.get(kind), dict):
            return 40008, "invalid message type"
        part = body[kind]
        if kind in ("text", "markdown", "markdown_v2"):
            content = part.get("content")
            if not isinstance(content, str) or not content:
                return 44004, "empty content"
            limit = TEXT_BYTES if kind == "text" else MARKDOWN_BYTES
            if len(content.encode()) > limit:
                return 40058, (f"{kind}.content exceed max length {limit}. "
                               "invalid Request Parameter")
            mentioned = part.get("mentioned_list", [])
            if not isinstance(mentioned, list) or not all(isinstance(m, str) for m in mentioned):
                return 40058, "mentioned_list invalid. invalid Request Parameter"
        if kind in ("voice", "file"):
            media = self.media.get(part.get("media_id", ""))
            if media is None or media.key != key or media.kind != kind \
                    or media.expires <= self.clock():
                return 40007, "invalid media_id"
        return 0, "ok"

    async def upload_media(self, request: web.Request) -> web.Response:
        if (fault := await self._fault()) is not None:
            return fault
        key, kind = request.query.get("key", ""), request.query.get("type", "")
        # aiohttp closes uploaded files when the handler returns: read everything here.
        filename, filelength, data = await _read_media(request)
        upload = Upload(key, kind, filename, filelength, data, 0)
        upload.errcode, message = self._check_upload(upload)
        self.uploads.append(upload)
        if upload.errcode:
            return _answer(upload.errcode, message)
        upload.media_id = f"3{secrets.token_hex(24)}"
        self.media[upload.media_id] = Media(key, kind, data, upload.seconds,
                                            self.clock() + MEDIA_TTL)
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": kind,
                                  "media_id": upload.media_id,
                                  "created_at": str(int(time.time()))})

    def _check_upload(self, upload: Upload) -> tuple[int, str]:
        if upload.key not in self.keys:
            return 93000, "invalid webhook url, hint: [fake]"
        if upload.kind not in ("voice", "file"):
            return 40004, "invalid media type"
        if not upload.data or not upload.filename:
            return 44001, "empty media data"
        if upload.filelength is not None and upload.filelength != str(len(upload.data)):
            return 40006, "invalid file size: filelength differs"
        limit = VOICE_BYTES if upload.kind == "voice" else FILE_BYTES
        if not 5 < len(upload.data) <= limit:
            return 40006, "invalid file size"
        if upload.kind == "voice":
            if not upload.data.startswith(AMR_MAGIC):
                return 40005, "invalid file type: voice must be amr"
            try:
                upload.seconds = amr_seconds(upload.data)
            except ValueError:
                return 40005, "invalid file type: undecodable amr"
            if upload.seconds > VOICE_SECONDS:
                return 40006, "invalid voice length: over 60 s"
        return 0, "ok"


def amr_seconds(data: bytes) -> float:
    """The playing time of an AMR file, decoded with PyAV; ValueError if it does not decode."""
    try:
        with av.open(io.BytesIO(data), "r", format="amr") as container:
            stream = container.streams.audio[0]
            if stream.codec_context.name != "amrnb":
                raise ValueError(f"not AMR-NB: {stream.codec_context.name}")
            samples = sum(frame.samples for frame in container.decode(stream))
            return samples / 8000
    except (av.error.FFmpegError, IndexError) as exc:
        raise ValueError(str(exc)) from exc


async def _read_media(request: web.Request) -> tuple[str, str | None, bytes]:
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError):
        return "", None, b""
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.name == "media":
            disposition = part.headers.get("Content-Disposition", "")
            return part.filename or "", _param(disposition, "filelength"), await part.read()
    return "", None, b""


def _param(disposition: str, name: str) -> str | None:
    for item in disposition.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == name:
            return value.strip('"')
    return None


def _answer(code: int, message: str) -> web.Response:
    # WeCom answers HTTP 200 whatever the errcode.
    return web.json_response({"errcode": code, "errmsg": message})


@asynccontextmanager
async def start_fake_wecom(keys: Iterable[str], **options: Any) -> AsyncIterator[FakeWeCom]:
    """Serve the fake on 127.0.0.1 for the block; its `url` is YEHUA_WECOM_API_BASE."""
    fake = FakeWeCom(set(keys), **options)
    app = web.Application(client_max_size=FILE_BYTES + 64 * 1024)
    app.router.add_post("/cgi-bin/webhook/send", fake.send)
    app.router.add_post("/cgi-bin/webhook/upload_media", fake.upload_media)
    app.router.add_get("/cgi-bin/aibot/media", fake.picture)
    async with serve(app, shutdown_timeout=0.5) as url:
        fake.url = url
        yield fake
