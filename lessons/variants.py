"""Per-platform audio: a spoken lesson transcoded once per format and cached beside it."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lessons.audio import probe, to_amr_clips, to_mp3, to_ogg_opus
from lessons.speech import Speech, write_atomic


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


def _name(speech: Speech, fmt: AudioFormat, index: int) -> str:
    digest = hashlib.sha256(f"{speech.path.stem}:{fmt}:{index}".encode()).hexdigest()[:40]
    return f"{digest}.{fmt}"


def _manifest(speech: Speech, fmt: AudioFormat) -> Path:
    return speech.path.with_name(f"{speech.path.stem}.{fmt}.clips")


def _transcode(speech: Speech, fmt: AudioFormat) -> list[Clip]:
    manifest = _manifest(speech, fmt)
    if manifest.exists():
        lines = manifest.read_text("utf-8").split()
        clips = [speech.path.with_name(n) for n in lines]
        if all(c.exists() for c in clips):
            return [Clip(c, probe(c.read_bytes()).duration_s, i, len(clips))
                    for i, c in enumerate(clips)]
    mp3 = speech.path.read_bytes()
    normalise = not speech.normalised
    match fmt:
        case AudioFormat.MP3:
            blobs = [to_mp3(mp3) if normalise else mp3]
        case AudioFormat.OGG:
            blobs = [to_ogg_opus(mp3, normalise=normalise)]
        case AudioFormat.AMR:
            blobs = to_amr_clips(mp3, normalise=normalise)
    paths = []
    for index, blob in enumerate(blobs):
        path = speech.path.with_name(_name(speech, fmt, index))
        write_atomic(path, blob)
        paths.append(path)
    # The manifest is written last: its presence means every clip is complete.
    write_atomic(manifest, "\n".join(p.name for p in paths).encode())
    return [Clip(p, probe(b).duration_s, i, len(paths))
            for i, (p, b) in enumerate(zip(paths, blobs, strict=True))]


class AudioVariants:
    """Transcodes on first use, in a thread, once per (speech, format) however many ask."""

    def __init__(self) -> None:
        self._locks: dict[tuple[Path, AudioFormat], asyncio.Lock] = {}
        # Known clips, so a lesson going to a thousand groups is probed once, not per group.
        self._known: dict[tuple[Path, AudioFormat], list[Clip]] = {}

    async def clips(self, speech: Speech, fmt: AudioFormat | str) -> list[Clip]:
        """The lesson's voice as files in `fmt`, made now if not made before."""
        key = (speech.path, AudioFormat(fmt))
        async with self._locks.setdefault(key, asyncio.Lock()):
            known = self._known.get(key)
            if known is None or not all(c.path.exists() for c in known):
                known = self._known[key] = await asyncio.to_thread(_transcode, speech, key[1])
        return known
