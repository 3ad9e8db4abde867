"""A local fake of the edge-tts websocket service, able to misbehave on request."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import unescape

import av
from aiohttp import WSMsgType, web

from tests.support.loopback import free_port, serve

log = logging.getLogger(__name__)

PATH_WS = "/consumer/speech/synthesize/readaloud/edge/v1"
MODES = ("ok", "forbidden_once", "no_audio", "stall", "truncate")
# 24 ms of audio per frame; the fake speaks 8 frames (about 0.19 s) per character.
FRAMES_PER_CHAR = 8
TICKS_PER_FRAME = 240_000
FIRST_OFFSET = 1_000_000
_QUERY_KEYS = ("TrustedClientToken", "ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version")


def silent_mp3_frame() -> bytes:
    """Encode one silent MPEG-2 Layer III frame: 24 kHz mono 48 kbps, 144 bytes."""
    codec = av.CodecContext.create("libmp3lame", "w")
    codec.sample_rate = 24_000
    codec.layout = "mono"
    codec.format = "s16p"
    codec.bit_rate = 48_000
    packets = []
    for index in range(8):
        frame = av.AudioFrame(format="s16p", layout="mono", samples=576)
        frame.sample_rate = 24_000
        frame.pts = index * 576
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        packets += codec.encode(frame)
    packets += codec.encode(None)
    payload = bytes(packets[-1])
    assert len(payload) == 144 and payload[:4] == bytes.fromhex("fff364c4"), payload[:4].hex()
    return payload


MP3_FRAME = silent_mp3_frame()


@dataclass
class FakeRequest:
    """One synthesis request as the fake saw it."""

    query: dict[str, str]
    headers: dict[str, str]
    config: dict[str, Any]
    ssml: str
    text: str
    voice: str
    prosody: dict[str, str]


@dataclass
class FakeEdge:
    """The fake service's state: its URL, what it received, and how it behaves next."""

    url: str = ""
    mode: str = "ok"
    # How many more requests misbehave before the fake answers normally again (None: forever).
    times: int | None = None
    requests: list[FakeRequest] = field(default_factory=list)
    handshakes: int = 0
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def set_mode(self, mode: str, times: int | None = None) -> None:
        """Misbehave as `mode` for the next `times` connections (forbidden_once: once)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.times = 1 if mode == "forbidden_once" and times is None else times

    def _take_mode(self) -> str:
        mode = self.mode
        if self.times is not None:
            self.times -= 1
            if self.times <= 0:
                self.mode, self.times = "ok", None
        return mode

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one websocket connection from edge-tts."""
        self.handshakes += 1
        mode = self._take_mode()
        if mode == "forbidden_once":
            # A server clock 34 minutes behind: edge-tts corrects its skew and retries once.
            date = format_datetime(datetime.now(UTC) - timedelta(minutes=34), usegmt=True)
            return web.Response(status=403, headers={"Date": date})
        if any(key not in request.query for key in _QUERY_KEYS):
            return web.Response(status=403)
        ws = web.WebSocketResponse(compress=True)
        await ws.prepare(request)
        config: dict[str, Any] = {}
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            headers, body = _parse_text(msg.data)
            if headers.get("Path") == "speech.config":
                config = json.loads(body)
            elif headers.get("Path") == "ssml":
                self._record(request, config, body)
                await self._answer(ws, headers["X-RequestId"], body, mode)
        return ws

    def _record(self, request: web.Request, config: dict[str, Any], ssml: str) -> None:
        voice = re.search(r"<voice name='([^']*)'>", ssml)
        prosody = re.search(r"<prosody ([^>]*)>(.*)</prosody>", ssml, re.S)
        attrs = dict(re.findall(r"(\w+)='([^']*)'", prosody.group(1))) if prosody else {}
        self.requests.append(
            FakeRequest(
                query=dict(request.query),
                headers=dict(request.headers),
                config=config,
                ssml=ssml,
                text=unescape(prosody.group(2)) if prosody else "",
                voice=voice.group(1) if voice else "",
                prosody=attrs,
            )
        )

    async def _answer(self, ws: web.WebSocketResponse, rid: str, ssml: str, mode: str) -> None:
        sid = uuid.uuid4().hex.upper()
        await ws.send_str(_text(rid, "turn.start", {"context": {"serviceTag": uuid.uuid4().hex}}))
        if mode == "stall":
            await self._closing.wait()
            return
        if mode != "no_audio":
            await ws.send_str(
                _text(rid, "response", {"context": {"serviceTag": "x"},
                                        "audio": {"type": "inline", "streamId": sid}})
            )
            text = self.requests[-1].text
            sentences = [s for s in re.split(r"(?<=[。！？!?；;])", text) if s.strip()]
            if mode == "truncate":
                sentences = sentences[:1]
            # Like the real service, the audio starts with the silence before the first offset.
            for _ in range(-(-FIRST_OFFSET // TICKS_PER_FRAME)):
                await ws.send_bytes(_audio(rid, sid, MP3_FRAME))
            offset = FIRST_OFFSET
            for sentence in sentences:
                frames = len(sentence) * FRAMES_PER_CHAR
                duration = frames * TICKS_PER_FRAME
                metadata = _boundary(sentence, offset, duration)
                await ws.send_str(_text(rid, "audio.metadata", metadata))
                for _ in range(frames):
                    await ws.send_bytes(_audio(rid, sid, MP3_FRAME))
                offset += duration
            await ws.send_bytes(_audio(rid, sid, b"", final=True))
        await ws.send_str(_text(rid, "turn.end", {}))


def _parse_text(data: str) -> tuple[dict[str, str], str]:
    head, _, body = data.partition("\r\n\r\n")
    headers = dict(line.split(":", 1) for line in head.split("\r\n") if ":" in line)
    return headers, body


def _text(rid: str, path: str, body: dict[str, Any]) -> str:
    return (
        f"X-RequestId:{rid}\r\nContent-Type:application/json; charset=utf-8\r\n"
        f"Path:{path}\r\n\r\n{json.dumps(body, ensure_ascii=False)}"
    )


def _boundary(sentence: str, offset: int, duration: int) -> dict[str, Any]:
    escaped = sentence.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"Metadata": [{"Type": "SentenceBoundary", "Data": {
        "Offset": offset, "Duration": duration,
        "text": {"Text": escaped, "Length": len(sentence), "BoundaryType": "SentenceBoundary"},
    }}]}


def _audio(rid: str, sid: str, payload: bytes, *, final: bool = False) -> bytes:
    # Every header line ends with one CRLF: edge-tts's parser splits on it.
    header = f"X-RequestId:{rid}\r\n"
    if not final:
        header += "Content-Type:audio/mpeg\r\n"
    header += f"X-StreamId:{sid}\r\nPath:audio\r\n"
    raw = header.encode("ascii")
    return len(raw).to_bytes(2, "big") + raw + payload


def closed_port_url() -> str:
    """A ws:// URL on 127.0.0.1 where nothing listens: the service is down."""
    return f"ws://127.0.0.1:{free_port()}{PATH_WS}"


@asynccontextmanager
async def start_fake_edge() -> AsyncIterator[FakeEdge]:
    """Run the fake on a free 127.0.0.1 port for the duration of the block."""
    fake = FakeEdge()
    app = web.Application()
    app.router.add_get(PATH_WS, fake.handle)
    async with serve(app) as url:
        fake.url = url.replace("http://", "ws://", 1) + PATH_WS
        try:
            yield fake
        finally:
            fake._closing.set()


__all__ = ["MODES", "MP3_FRAME", "FakeEdge", "FakeRequest", "closed_port_url", "start_fake_edge"]
