"""Per-platform audio: a spoken lesson transcoded once per format and cached beside it."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from lessons.audio import probe, to_amr_clips, to_mp3, to_ogg_opus
from lessons.speech import Speech, write_atomic
from lessons.worker import Worker


class AudioFormat(StrEnum):
    """What each platform plays as a voice message."""

    MP3 = "mp3"  # web chat, OneBot (QQ), links for DingTalk and Feishu
    OGG = "ogg"  # Telegram voice notes: OGG/Opus
    AMR = "amr"  # WeCom voice: AMR-NB clips of at most 55 s and 2 MB


@dataclass(frozen=True)
class Clip:
    """One playable file of a lesson's voice in a platform's format."""

    path: Path
    duration_s: float
    index: int  # 0-based position among the lesson's clips
    count: int


def _name(speech: Path, fmt: AudioFormat, index: int) -> str:
    digest = hashlib.sha256(f"{speech.stem}:{fmt}:{index}".encode()).hexdigest()[:40]
    return f"{digest}.{fmt}"


def _manifest(speech: Path, fmt: AudioFormat) -> Path:
    return speech.with_name(f"{speech.stem}.{fmt}.clips")


def transcode(speech_path: str, normalised: bool, fmt: str) -> list[tuple[str, float]]:
    """A spoken lesson's clips in `fmt` (made now unless made before): (path, seconds) each.

    Takes and returns JSON values: it runs in a worker process, where PyAV is loaded.
    """
    speech, form = Path(speech_path), AudioFormat(fmt)
    manifest = _manifest(speech, form)
    if manifest.exists():
        lines = manifest.read_text("utf-8").split()
        clips = [speech.with_name(n) for n in lines]
        if all(c.exists() for c in clips):
            return [(str(c), probe(c.read_bytes()).duration_s) for c in clips]
    mp3 = speech.read_bytes()
    normalise = not normalised
    match form:
        case AudioFormat.MP3:
            blobs = [to_mp3(mp3) if normalise else mp3]
        case AudioFormat.OGG:
            blobs = [to_ogg_opus(mp3, normalise=normalise)]
        case AudioFormat.AMR:
            blobs = to_amr_clips(mp3, normalise=normalise)
    paths = []
    for index, blob in enumerate(blobs):
        path = speech.with_name(_name(speech, form, index))
        write_atomic(path, blob)
        paths.append(path)
    # The manifest is written last: its presence means every clip is complete.
    write_atomic(manifest, "\n".join(p.name for p in paths).encode())
    return [(str(p), probe(b).duration_s) for p, b in zip(paths, blobs, strict=True)]


def _clips(result: Any) -> list[Clip]:
    """`transcode`'s answer as clips (ValueError: not a list of (path, seconds))."""
    pairs = [(str(path), float(seconds)) for path, seconds in result]
    return [Clip(Path(path), seconds, index, len(pairs))
            for index, (path, seconds) in enumerate(pairs)]


class AudioVariants:
    """Transcodes on first use, once per (speech, format) however many ask: in `worker`'s
    child process, or without one in a thread of this process."""

    def __init__(self, worker: Worker | None = None) -> None:
        self.worker = worker
        self._locks: dict[tuple[Path, AudioFormat], asyncio.Lock] = {}
        # Known clips, so a lesson going to a thousand groups is probed once, not per group.
        self._known: dict[tuple[Path, AudioFormat], list[Clip]] = {}

    async def clips(self, speech: Speech, fmt: AudioFormat | str) -> list[Clip]:
        """The lesson's voice as files in `fmt`, made now if not made before."""
        key = (speech.path, AudioFormat(fmt))
        async with self._locks.setdefault(key, asyncio.Lock()):
            known = self._known.get(key)
            if known is None or not all(c.path.exists() for c in known):
                known = self._known[key] = await asyncio.to_thread(
                    self._transcode, str(speech.path), speech.normalised, str(key[1]))
        return known

    def _transcode(self, speech_path: str, normalised: bool, fmt: str) -> list[Clip]:
        if self.worker is None:
            return _clips(transcode(speech_path, normalised, fmt))
        return self.worker.call("transcode", _clips, speech_path, normalised, fmt)

    def close(self) -> None:
        """End the worker's child now (it would end by itself once idle)."""
        if self.worker is not None:
            self.worker.close()

