"""The synthesizers: edge-tts, a self-hosted speech server, espeak-ng as the offline fallback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from contextlib import aclosing

import aiohttp
import edge_tts
import edge_tts.communicate as edge_communicate
from edge_tts.constants import TRUSTED_CLIENT_TOKEN
from edge_tts.constants import WSS_URL as EDGE_WSS_URL
from edge_tts.exceptions import EdgeTTSException, NoAudioReceived

from lessons.audio import MP3_BYTES_PER_SECOND
from lessons.audio_jobs import wav_to_mp3_away
from lessons.server_errors import base_url as checked_url
from lessons.server_errors import http_error
from lessons.shaping import letters, sentences, split_for_speech
from lessons.speech import Cue, SpeechAudio, SynthesisError, Voice

log = logging.getLogger(__name__)

_TICKS_PER_SECOND = 10_000_000
# espeak-ng pauses at ASCII punctuation only.
_ASCII_PUNCT = str.maketrans("，、；：。！？", ",,;:.!?")


class EdgeSynthesizer:
    """Microsoft Edge's online voices through edge-tts, one request per piece, verified."""

    name = "edge-tts"

    def __init__(
        self,
        *,
        endpoint: str = "",
        timeout: float = 60.0,
        concurrency: int = 2,
        retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        if endpoint and not endpoint.startswith(("ws://", "wss://")):
            raise ValueError(f"YEHUA_TTS_ENDPOINT must be a ws:// or wss:// URL, not {endpoint!r}")
        if endpoint and "?" not in endpoint:
            endpoint = f"{endpoint}?TrustedClientToken={TRUSTED_CLIENT_TOKEN}"
        self.url = endpoint or EDGE_WSS_URL
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._semaphore = asyncio.Semaphore(concurrency)

    async def synthesize(self, text: str, voice: Voice) -> SpeechAudio:
        """Speak every piece of `text` (in parallel, capped) and join them into one MP3."""
        pieces = split_for_speech(text)
        if not pieces:
            raise SynthesisError("nothing to say")
        try:
            self._communicate(pieces[0], voice)
        except (ValueError, TypeError) as exc:
            raise SynthesisError(f"invalid voice settings: {exc}") from exc
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._piece(piece, voice)) for piece in pieces]
        except* SynthesisError as failures:
            raise failures.exceptions[0] from None
        mp3 = b""
        cues: list[Cue] = []
        for task in tasks:
            audio = task.result()
            shift = len(mp3) / MP3_BYTES_PER_SECOND
            cues += [Cue(c.start + shift, c.end + shift, c.text) for c in audio.cues]
            mp3 += audio.mp3
        return SpeechAudio(mp3, tuple(cues))

    def _communicate(self, piece: str, voice: Voice) -> edge_tts.Communicate:
        seconds = max(1, round(self.timeout))
        return edge_tts.Communicate(
            piece, voice.name, rate=voice.rate, volume=voice.volume, pitch=voice.pitch,
            connect_timeout=min(10, seconds), receive_timeout=seconds,
        )

    async def _piece(self, piece: str, voice: Voice) -> SpeechAudio:
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                async with self._semaphore:
                    return await self._attempt(piece, voice)
            except SynthesisError as exc:
                if attempt + 1 == attempts:
                    raise SynthesisError(f"{exc} ({attempts} attempts)") from exc
                delay = self.backoff * 2**attempt
                log.info("edge-tts failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _attempt(self, piece: str, voice: Voice) -> SpeechAudio:
        communicate = self._communicate(piece, voice)
        # edge-tts reads this module global when it connects; it is the only way to redirect it.
        edge_communicate.WSS_URL = self.url
        audio = bytearray()
        cues: list[Cue] = []
        try:
            # receive_timeout does not bound a stalled websocket: only this outer timeout does.
            async with asyncio.timeout(self.timeout), aclosing(communicate.stream()) as stream:
                async for chunk in stream:
                    if chunk["type"] == "audio":
                        audio += chunk.get("data", b"")
                    elif chunk["type"] == "SentenceBoundary":
                        start = chunk.get("offset", 0.0) / _TICKS_PER_SECOND
                        end = start + chunk.get("duration", 0.0) / _TICKS_PER_SECOND
                        cues.append(Cue(start, end, chunk.get("text", "").strip()))
        except TimeoutError as exc:
            raise SynthesisError(f"timed out after {self.timeout:g} s") from exc
        except aiohttp.ClientResponseError as exc:
            raise SynthesisError(f"HTTP {exc.status}") from exc
        except NoAudioReceived as exc:
            raise SynthesisError("no audio") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or exc.os_error
            raise SynthesisError(f"cannot connect to {exc.host}:{exc.port} ({reason})") from exc
        except (EdgeTTSException, aiohttp.ClientError, OSError) as exc:
            raise SynthesisError(f"{type(exc).__name__}: {exc}") from exc
        if not audio:
            raise SynthesisError("no audio")
        # The service can end a turn early without an error: check every character was spoken.
        expected, said = letters(piece), letters("".join(c.text for c in cues))
        if said != expected:
            raise SynthesisError(f"truncated: {len(said)} of {len(expected)} characters spoken")
        if cues and len(audio) / MP3_BYTES_PER_SECOND + 0.5 < cues[-1].end:
            raise SynthesisError("truncated: audio ends before the last sentence")
        return SpeechAudio(bytes(audio), tuple(cues))


def to_pinyin(text: str) -> str:
    """Tone-numbered pinyin (neutral tone 5) for espeak-ng; other text is kept."""
    # Imported here: pypinyin's dictionaries cost ~55 MB, needed only when the service is down.
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    return " ".join(syllables).translate(_ASCII_PUNCT)


class EspeakSynthesizer:
    """The offline fallback: espeak-ng reading tone-numbered pinyin."""

    name = "espeak-ng"

    def __init__(
        self, *, binary: str = "espeak-ng", speed: int = 140, timeout: float = 60.0
    ) -> None:
        self.binary = binary
        self.speed = speed
        self.timeout = timeout

    def available(self) -> bool:
        """Whether the espeak-ng binary can be found."""
        return shutil.which(self.binary) is not None

    async def synthesize(self, text: str, voice: Voice) -> SpeechAudio:
        """Speak `text`: Cantonese for zh-HK voices, else Mandarin read from pinyin."""
        parts = [s for s in sentences(text) if letters(s)]
        if not parts:
            raise SynthesisError("nothing to say")
        binary = shutil.which(self.binary)
        if binary is None:
            raise SynthesisError(f"{self.binary} is not installed")
        cantonese = voice.name.startswith("zh-HK")
        # Debian's espeak-ng reads Mandarin characters badly but tone-numbered pinyin well;
        # its Cantonese reads characters directly.
        script = "\n".join(s if cantonese else to_pinyin(s) for s in parts)
        try:
            proc = await asyncio.create_subprocess_exec(
                binary, "-v", "yue" if cantonese else "cmn-latn-pinyin", "-s", str(self.speed),
                "-b", "1",
                "--stdout", "--stdin",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise SynthesisError(f"cannot run {self.binary}: {exc}") from exc
        try:
            async with asyncio.timeout(self.timeout):
                wav, err = await proc.communicate(script.encode())
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise SynthesisError(f"timed out after {self.timeout:g} s") from exc
        if proc.returncode != 0 or not wav:
            detail = err.decode(errors="replace").strip()
            raise SynthesisError(f"{self.binary} exited with {proc.returncode}: {detail}")
        try:
            mp3 = await asyncio.to_thread(wav_to_mp3_away, wav)
        except ValueError as exc:
            raise SynthesisError(f"{self.binary} wrote bad audio: {exc}") from exc
        duration = len(mp3) / MP3_BYTES_PER_SECOND
        # espeak-ng gives no timings: spread the sentences over the audio by their length.
        weights = [len(letters(s)) for s in parts]
        cues, start = [], 0.0
        for part, weight in zip(parts, weights, strict=True):
            end = start + duration * weight / sum(weights)
            cues.append(Cue(start, end, part))
            start = end
        return SpeechAudio(mp3, tuple(cues))


class SpeechServer:
    """One self-hosted speech server with an OpenAI-compatible API: its address, key and pool."""

    def __init__(self, base_url: str, *, api_key: str = "", timeout: float = 60.0,
                 concurrency: int = 2, retries: int = 2, backoff: float = 1.0) -> None:
        self.base_url = checked_url(base_url, "speech")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._semaphore = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    async def speech(self, body: dict[str, str]) -> bytes:
        """POST /audio/speech and return the audio bytes, retrying what may pass; or raise
        SynthesisError naming the status and the server's own words."""
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                async with self._semaphore:
                    return await self._post(body)
            except _Transient as exc:
                if attempt + 1 == attempts:
                    raise SynthesisError(f"{exc} ({attempts} attempts)") from exc
                delay = max(self.backoff * 2**attempt, min(exc.retry_after, self.timeout))
                log.info("speech server failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close the connection pool (the speech service's cleanup)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, body: dict[str, str]) -> bytes:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/audio/speech"
        try:
            # Each attempt gets the whole timeout; a timed-out one is not retried, since a
            # busy server would make every lesson wait several timeouts before the fallback.
            async with asyncio.timeout(self.timeout), self._session.post(
                    url, json=body, headers=headers) as response:
                data = await response.read()
        except TimeoutError as exc:
            raise SynthesisError(f"timed out after {self.timeout:g} s") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or exc.os_error
            raise _Transient(f"cannot connect to {exc.host}:{exc.port} ({reason})") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if response.status == 429 or response.status >= 500:
            raise _Transient(http_error(response.status, data),
                             _retry_after(response.headers.get("Retry-After")))
        if response.status >= 400:
            raise SynthesisError(http_error(response.status, data))
        if not data:
            raise SynthesisError("no audio")
        return data


class ServerSynthesizer:
    """A voice of a speech server (model, voice, instruction text), as 24 kHz 48 kbps MP3."""

    def __init__(self, server: SpeechServer, *, model: str, voice: str,
                 instructions: str = "", response_format: str = "wav") -> None:
        if response_format not in {"mp3", "wav"}:
            raise ValueError(f"response_format must be mp3 or wav, not {response_format!r}")
        self.server = server
        self.model = model
        self.voice = voice
        self.instructions = instructions
        self.response_format = response_format
        # The name is part of every cache key: a new model, voice or instruction text makes
        # new speech instead of reusing the old.
        name = f"speech-server:{model}:{voice}"
        if instructions:
            name += ":" + hashlib.sha256(instructions.encode()).hexdigest()[:12]
        self.name = name

    async def synthesize(self, text: str, voice: Voice) -> SpeechAudio:
        """Speak `text` in the server's voice (the edge-tts `voice` is not the server's)."""
        said = " ".join(text.split())
        if not letters(said):
            raise SynthesisError("nothing to say")
        body = {"model": self.model, "input": said, "voice": self.voice,
                "response_format": self.response_format}
        if self.instructions:
            body["instructions"] = self.instructions
        data = await self.server.speech(body)
        try:
            # Whatever rate, channels and bit rate come back, the cache keeps one format:
            # headerless 48 kbps CBR frames, whose size gives the duration.
            mp3 = await asyncio.to_thread(wav_to_mp3_away, data)
        except ValueError as exc:
            raise SynthesisError(f"the server sent no usable audio ({exc})") from exc
        duration = len(mp3) / MP3_BYTES_PER_SECOND
        if duration <= 0:
            raise SynthesisError("the server sent empty audio")
        # The server gives no timings: the piece is one cue over all of its audio.
        return SpeechAudio(mp3, (Cue(0.0, duration, said),))

    async def aclose(self) -> None:
        """Close the server's connection pool."""
        await self.server.aclose()


class _Transient(SynthesisError):
    """A failure worth another try: 5xx, 429, a dropped connection."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(raw: str | None) -> float:
    try:
        return max(0.0, float(raw or 0))
    except ValueError:
        return 0.0
