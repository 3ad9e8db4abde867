"""A fake self-hosted speech server with an OpenAI-compatible API, able to misbehave."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import av
from aiohttp import web
from aiohttp.web_request import FileField

from tests.support.loopback import free_port, serve

# Routes `POST /v1/audio/speech` (JSON: model, input, voice, optional instructions,
# response_format mp3 or wav; answers the audio bytes) and `POST /v1/audio/transcriptions`
# (multipart: file, model, optional language and response_format json or text; answers
# {"text": ...}), both behind `Authorization: Bearer <key>` when the fake has a key, errors
# in OpenAI's shape {"error": {"message", "type"}}. The speech is real audio a decoder reads:
# a tone of 0.12 s per character, as 44.1 kHz stereo 128 kbps MP3 or 16 kHz stereo WAV, so
# the bot must re-encode it. Each endpoint can answer 500, 429, 401, slowly, or with garbage.

KEY = "sk-fake-speech-0123456789"
MODES = ("ok", "fail", "busy", "unauthorized", "slow", "garbage")
SECONDS_PER_CHAR = 0.12
FORMATS = ("mp3", "wav")


@dataclass
class SpeechRequest:
    """One /audio/speech request as the fake read it."""

    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class TranscriptionRequest:
    """One /audio/transcriptions request as the fake read it."""

    headers: dict[str, str]
    fields: dict[str, str]
    filename: str
    audio: bytes


@dataclass
class Endpoint:
    """How one endpoint behaves next: a mode for the next `times` requests (None: all)."""

    mode: str = "ok"
    times: int | None = None
    slow_s: float = 30.0

    def set_mode(self, mode: str, times: int | None = None, *, slow_s: float = 30.0) -> None:
        """Misbehave as `mode` for the next `times` requests (None: until told otherwise)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode, self.times, self.slow_s = mode, times, slow_s

    def take(self) -> str:
        mode = self.mode
        if self.times is not None:
            self.times -= 1
            if self.times <= 0:
                self.mode, self.times = "ok", None
        return mode


@dataclass
class FakeSpeechServer:
    """The fake's state: its base URL (ending in /v1), what it received, how it behaves."""

    url: str = ""
    key: str = KEY
    transcript: str = "村口的路灯坏了三个月了，晚上走路看不见"
    speech: Endpoint = field(default_factory=Endpoint)
    transcriptions: Endpoint = field(default_factory=Endpoint)
    speech_requests: list[SpeechRequest] = field(default_factory=list)
    transcription_requests: list[TranscriptionRequest] = field(default_factory=list)
    refused: int = 0  # requests answered 401 for a missing or wrong key
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def said(self) -> list[str]:
        """The `input` of every speech request, in order."""
        return [r.body.get("input", "") for r in self.speech_requests]

    async def handle_speech(self, request: web.Request) -> web.StreamResponse:
        """Answer POST /v1/audio/speech."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        for name in ("model", "input", "voice"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                return _error(400, f"'{name}' is required")
        if body.get("response_format", "mp3") not in FORMATS:
            return _error(400, f"response_format {body['response_format']!r} is not supported")
        if "instructions" in body and not isinstance(body["instructions"], str):
            return _error(400, "'instructions' must be a string")
        self.speech_requests.append(SpeechRequest(dict(request.headers), body))
        failed = await self._misbehave(self.speech.take(), self.speech.slow_s)
        if failed is not None:
            return failed
        fmt = body.get("response_format", "mp3")
        audio = await asyncio.to_thread(tone, len(body["input"]) * SECONDS_PER_CHAR, fmt)
        return web.Response(body=audio, content_type="audio/mpeg" if fmt == "mp3"
                            else "audio/wav")

    async def handle_transcription(self, request: web.Request) -> web.StreamResponse:
        """Answer POST /v1/audio/transcriptions."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        if not request.content_type.startswith("multipart/"):
            return _error(400, "the body must be multipart/form-data")
        fields: dict[str, str] = {}
        audio, filename = b"", ""
        # aiohttp closes uploaded files when the handler returns: read them here.
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, FileField):
                if name == "file":
                    audio, filename = value.file.read(), value.filename
            else:
                fields[name] = str(value)
        if not audio:
            return _error(400, "'file' is required")
        if not fields.get("model"):
            return _error(400, "'model' is required")
        try:
            with av.open(io.BytesIO(audio)) as container:
                if not container.streams.audio:
                    raise ValueError("no audio stream")
        except (av.error.FFmpegError, ValueError):
            return _error(400, "the file is not audio")
        self.transcription_requests.append(
            TranscriptionRequest(dict(request.headers), fields, filename, audio))
        failed = await self._misbehave(self.transcriptions.take(), self.transcriptions.slow_s)
        if failed is not None:
            return failed
        if fields.get("response_format") == "text":
            return web.Response(text=self.transcript)
        return web.json_response({"text": self.transcript})

    def _refused(self, request: web.Request) -> web.Response | None:
        if self.key and request.headers.get("Authorization") != f"Bearer {self.key}":
            self.refused += 1
            return _error(401, "Incorrect API key provided", "invalid_request_error")
        return None

    async def _misbehave(self, mode: str, slow_s: float) -> web.StreamResponse | None:
        match mode:
            case "fail":
                return _error(500, "CUDA out of memory", "server_error")
            case "busy":
                return _error(429, "Too many requests, slow down", "rate_limit_error",
                              headers={"Retry-After": "0"})
            case "unauthorized":
                return _error(401, "Incorrect API key provided", "invalid_request_error")
            case "garbage":
                return web.Response(body=os.urandom(4000), content_type="audio/mpeg")
            case "slow":
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), slow_s)
        return None


def _error(status: int, message: str, kind: str = "invalid_request_error", *,
           headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json",
                        headers=headers)


def tone(seconds: float, fmt: str) -> bytes:
    """A 220 Hz tone as 44.1 kHz stereo 128 kbps MP3 or 16 kHz stereo 16-bit WAV."""
    rate = 44_100 if fmt == "mp3" else 16_000
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream("libmp3lame" if fmt == "mp3" else "pcm_s16le",
                                      rate=rate, layout="stereo")
        if fmt == "mp3":
            stream.bit_rate = 128_000
        second = _tone_second(rate) * 2  # whole periods: it repeats seamlessly
        total, pts, chunk = max(1, round(seconds * rate)), 0, 1152
        while pts < total:
            count = min(chunk, total - pts)
            frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
            frame.sample_rate = rate
            frame.pts = pts
            start = pts % rate * 4
            samples = second[start:start + count * 4]
            frame.planes[0].update(samples)
            for packet in stream.encode(frame):
                container.mux(packet)
            pts += count
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


@functools.lru_cache(maxsize=2)
def _tone_second(rate: int) -> bytes:
    samples = bytearray()
    for i in range(rate):
        value = int(8000 * math.sin(2 * math.pi * 220 * i / rate))
        samples += value.to_bytes(2, "little", signed=True) * 2
    return bytes(samples)


def closed_server_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: the server is down."""
    return f"http://127.0.0.1:{free_port()}/v1"


@asynccontextmanager
async def start_fake_speech_server(*, key: str = KEY) -> AsyncIterator[FakeSpeechServer]:
    """Run the fake on a free 127.0.0.1 port for the duration of the block."""
    fake = FakeSpeechServer(key=key)
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app.router.add_post("/v1/audio/speech", fake.handle_speech)
    app.router.add_post("/v1/audio/transcriptions", fake.handle_transcription)
    async with serve(app) as url:
        fake.url = f"{url}/v1"
        try:
            yield fake
        finally:
            fake._closing.set()
