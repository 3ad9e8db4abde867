"""Speech for lessons: the types, and a content-hash cache trying each synthesizer in order."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from lessons.audio import MP3_BYTES_PER_SECOND, mp3_duration, release_memory, silence_mp3
from lessons.shaping import (
    PARAGRAPH_PAUSE_S,
    SENTENCE_PAUSE_S,
    letters,
    sentences,
    split_for_speech,
)

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

SEGMENT_DIR = "segments"  # per-segment cache, so an edited lesson re-synthesizes only changes
MIN_SEGMENT_CHARS = 8  # shorter sentences ride with the next one


@dataclass(frozen=True)
class Voice:
    """An edge-tts voice and its prosody, and the speech profile it speaks for."""

    name: str = "zh-CN-YunyangNeural"
    rate: str = "-10%"
    volume: str = "+15%"
    pitch: str = "-2Hz"
    # Picks the profile's synthesizer chain; not in the cache key: each engine's name is.
    profile: str = ""


@dataclass(frozen=True)
class Cue:
    """One subtitle cue, in seconds from the start of the audio."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class SpeechAudio:
    """What a synthesizer returns: MP3 bytes and their cues."""

    mp3: bytes
    cues: tuple[Cue, ...]


@dataclass(frozen=True)
class Speech:
    """A rendered, cached speech file."""

    path: Path
    duration_s: float
    engine: str
    srt: str
    # Already loudness-normalised (a speaker's recording): platform files are only re-encoded.
    normalised: bool = False


class SynthesisError(Exception):
    """One synthesizer failed; the message says why."""


class SpeechUnavailable(Exception):
    """Every synthesizer failed; the message lists each engine's reason."""


class Synthesizer(Protocol):
    """Turns text into MP3 speech."""

    name: str

    async def synthesize(self, text: str, voice: Voice) -> SpeechAudio:
        """Speak `text` with `voice`, or raise SynthesisError."""
        ...


def srt_from_cues(cues: Sequence[Cue]) -> str:
    """Format cues as SubRip text ("" when there are none)."""

    def stamp(seconds: float) -> str:
        ms = round(seconds * 1000)
        hours, minutes, secs = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
        return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms % 1000:03d}"

    return "\n".join(
        f"{i}\n{stamp(c.start)} --> {stamp(c.end)}\n{c.text}\n" for i, c in enumerate(cues, 1)
    )


class SpeechService:
    """Renders text to cached MP3, trying each synthesizer in order.

    `chains` gives some profiles their own order (a speech server before the others); every
    other profile uses `synthesizers`.
    """

    def __init__(self, cache_dir: Path, synthesizers: Sequence[Synthesizer],
                 chains: Mapping[str, Sequence[Synthesizer]] | None = None) -> None:
        if not synthesizers or any(not chain for chain in (chains or {}).values()):
            raise ValueError("at least one synthesizer is needed")
        self.cache_dir = Path(cache_dir)
        self.synthesizers = tuple(synthesizers)
        self.chains = {name: tuple(chain) for name, chain in (chains or {}).items()}
        self._in_flight: dict[str, asyncio.Task[Speech]] = {}
        self._segments_in_flight: dict[str, asyncio.Task[SpeechAudio]] = {}
        self._stats = {"synthesized": 0, "cached": 0, "failed": 0, "fallback": 0}
        self._released_at = 0  # the synthesized count when the heap was last handed back
        # The blocking work (segment files, checking each segment decodes) is milliseconds a
        # piece, so one thread of its own does it all. Spread over the default pool's six, each
        # thread kept a malloc arena of a few hundred KB: ~2 MB in all after a pre-render.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech")

    @property
    def stats(self) -> dict[str, int]:
        """Counters: new files synthesized, renders served without synthesis, renders that
        failed, and renders answered by a fallback engine after a better one failed."""
        return dict(self._stats)

    def chain(self, voice: Voice) -> tuple[Synthesizer, ...]:
        """The synthesizers tried, in order, for the profile `voice` speaks for."""
        return self.chains.get(voice.profile, self.synthesizers)

    def key(self, text: str, voice: Voice, engine: str) -> str:
        """The cache key: sha256 hex of the engine, the voice fields and the text."""
        digest = hashlib.sha256()
        for part in (engine, voice.name, voice.rate, voice.volume, voice.pitch, text):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def cached(self, text: str, voice: Voice) -> Speech | None:
        """The cached speech of the first engine (in order) that has one."""
        for synth in self.chain(voice):
            path = self.cache_dir / f"{self.key(text, voice, synth.name)}.mp3"
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            srt_path = path.with_suffix(".srt")
            srt = srt_path.read_text("utf-8") if srt_path.exists() else ""
            # Both engines write headerless 48 kbps CBR, so the size gives the exact duration.
            return Speech(path, size / MP3_BYTES_PER_SECOND, synth.name, srt)
        return None

    async def render(self, text: str, voice: Voice) -> Speech:
        """Return cached speech for `text`, synthesizing it once however many callers ask."""
        # Profiles with different chains must not share one synthesis of the same words.
        flight = self.key(text, voice, "\0".join(s.name for s in self.chain(voice)))
        task = self._in_flight.get(flight)
        leader = task is None
        if task is None:
            task = asyncio.create_task(self._render(text, voice))
            self._in_flight[flight] = task
            task.add_done_callback(lambda done: self._landed(flight, done))
        # A caller that gives up must not cancel the synthesis the others are waiting for.
        speech = await asyncio.shield(task)
        if not leader:
            self._stats["cached"] += 1
        return speech

    async def close(self) -> None:
        """Cancel and await syntheses still in flight (the app's cleanup)."""
        tasks: list[asyncio.Task[Any]] = [*self._in_flight.values(),
                                          *self._segments_in_flight.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._worker.shutdown(wait=False, cancel_futures=True)
        engines = {id(s): s for chain in (self.synthesizers, *self.chains.values()) for s in chain}
        for synth in engines.values():
            # Engines holding a connection pool (a speech server's) offer aclose().
            aclose = getattr(synth, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _in_thread(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run blocking work on the service's own thread."""
        call = functools.partial(func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    def _landed(self, flight: str, task: asyncio.Task[Speech]) -> None:
        if self._in_flight.get(flight) is task:
            del self._in_flight[flight]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported twice
        if not self._in_flight and self._stats["synthesized"] != self._released_at:
            # A batch of syntheses is over: what its websocket messages and segment decoding
            # freed stays resident in glibc's heap (~2 MB after a pre-render) unless handed
            # back. Takes well under a millisecond.
            self._released_at = self._stats["synthesized"]
            release_memory()

    async def _render(self, text: str, voice: Voice) -> Speech:
        hit = self.cached(text, voice)
        chain = self.chain(voice)
        names = [s.name for s in chain]
        if hit is not None and hit.engine == names[0]:
            self._stats["cached"] += 1
            return hit
        better = chain[: names.index(hit.engine)] if hit else chain
        reasons: list[str] = []
        for synth in better:
            try:
                speech = await self._render_with(synth, text, voice)
            except SynthesisError as exc:
                reasons.append(f"{synth.name}: {exc}")
                continue
            if reasons:
                self._stats["fallback"] += 1
                log.warning("speech fell back to %s: %s", synth.name, "; ".join(reasons))
            return speech
        if hit is not None:
            self._stats["cached"] += 1
            self._stats["fallback"] += 1
            log.warning("reusing cached %s speech: %s", hit.engine, "; ".join(reasons))
            return hit
        self._stats["failed"] += 1
        raise SpeechUnavailable("no speech engine worked: " + "; ".join(reasons))

    async def _render_with(self, synth: Synthesizer, text: str, voice: Voice) -> Speech:
        """Speak every segment with one engine (reusing cached segments), then join them."""
        parts = segments(text)
        if not parts:
            raise SynthesisError("nothing to say: the text has no letters or digits")
        results = await asyncio.gather(
            *(self._segment(synth, piece, voice) for piece, _ in parts), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            if not all(isinstance(f, SynthesisError) for f in failures):
                raise next(f for f in failures if not isinstance(f, SynthesisError))
            ok = len(parts) - len(failures)
            raise SynthesisError(f"{failures[0]} ({len(failures)} of {len(parts)} segments "
                                 f"failed; {ok} kept for next time)")
        audio = _joined([r for r in results if isinstance(r, SpeechAudio)],
                        [pause for _, pause in parts])
        key = self.key(text, voice, synth.name)
        srt = srt_from_cues(audio.cues)
        path = await self._in_thread(self._store, key, audio.mp3, srt)
        return Speech(path, len(audio.mp3) / MP3_BYTES_PER_SECOND, synth.name, srt)

    async def _segment(self, synth: Synthesizer, piece: str, voice: Voice) -> SpeechAudio:
        """One segment from the segment cache, or synthesized, checked and cached."""
        key = self.key(piece, voice, synth.name)
        task = self._segments_in_flight.get(key)
        if task is None:
            task = asyncio.create_task(self._make_segment(synth, piece, voice, key))
            self._segments_in_flight[key] = task
            task.add_done_callback(lambda _: self._segments_in_flight.pop(key, None))
        else:  # another lesson is already saying this very sentence
            self._stats["cached"] += 1
        return await asyncio.shield(task)

    async def _make_segment(self, synth: Synthesizer, piece: str, voice: Voice,
                            key: str) -> SpeechAudio:
        folder = self.cache_dir / SEGMENT_DIR
        cached = await self._in_thread(_read_segment, folder, key)
        if cached is not None:
            self._stats["cached"] += 1
            return cached
        audio = await synth.synthesize(piece, voice)
        try:
            duration = await self._in_thread(mp3_duration, audio.mp3)
        except ValueError as exc:
            raise SynthesisError(f"undecodable audio ({exc})") from exc
        if duration <= 0:
            raise SynthesisError("empty audio")
        await self._in_thread(_write_segment, folder, key, audio)
        self._stats["synthesized"] += 1
        return audio

    def _store(self, key: str, mp3: bytes, srt: str) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # The .mp3 is the cache marker, so it is written last.
        write_atomic(self.cache_dir / f"{key}.srt", srt.encode())
        path = self.cache_dir / f"{key}.mp3"
        write_atomic(path, mp3)
        return path


def segments(text: str) -> list[tuple[str, float]]:
    """Split spoken text into (segment, pause after it): one sentence each, very short ones
    merged with the next, a longer pause at paragraph ends and none after the last."""
    out: list[tuple[str, float]] = []
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if letters(p)]
    for index, paragraph in enumerate(paragraphs):
        pending = ""
        pieces: list[str] = []
        for sentence in sentences(paragraph):
            for piece in split_for_speech(sentence) or []:
                pending += piece
                if len(letters(pending)) >= MIN_SEGMENT_CHARS:
                    pieces.append(pending)
                    pending = ""
        if pending:
            if pieces:
                pieces[-1] += pending
            else:
                pieces.append(pending)
        last = index == len(paragraphs) - 1
        for i, piece in enumerate(pieces):
            end_of_paragraph = i == len(pieces) - 1
            pause = 0.0 if last and end_of_paragraph else (
                PARAGRAPH_PAUSE_S if end_of_paragraph else SENTENCE_PAUSE_S)
            out.append((piece, pause))
    return out


def _joined(parts: Sequence[SpeechAudio], pauses: Sequence[float]) -> SpeechAudio:
    """Segments back to back with silence between, cue times shifted to match."""
    mp3 = bytearray()
    cues: list[Cue] = []
    for audio, pause in zip(parts, pauses, strict=True):
        shift = len(mp3) / MP3_BYTES_PER_SECOND
        cues.extend(Cue(c.start + shift, c.end + shift, c.text) for c in audio.cues)
        mp3 += audio.mp3
        if pause > 0:
            mp3 += silence_mp3(pause)
    return SpeechAudio(bytes(mp3), tuple(cues))


def _read_segment(folder: Path, key: str) -> SpeechAudio | None:
    try:
        mp3 = (folder / f"{key}.mp3").read_bytes()
        raw = json.loads((folder / f"{key}.json").read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return SpeechAudio(mp3, tuple(Cue(c["start"], c["end"], c["text"]) for c in raw))


def _write_segment(folder: Path, key: str, audio: SpeechAudio) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cues = [{"start": c.start, "end": c.end, "text": c.text} for c in audio.cues]
    write_atomic(folder / f"{key}.json", json.dumps(cues, ensure_ascii=False).encode())
    write_atomic(folder / f"{key}.mp3", audio.mp3)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so readers see either nothing or all of it, never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
