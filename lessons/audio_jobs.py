"""PyAV's work as jobs for the audio worker's child, and the calls that send it there.

The bot calls the `*_away` functions: each runs in a child (`lessons.worker.AUDIO`'s, or
`VOICES`' for members' voices), so PyAV and FFmpeg's libraries (~20 MB) never stay in the bot's
memory. The `*_job` functions are what the
child runs: JSON values in and out, bytes as base64.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from lessons.audio import (
    AudioSource,
    PreparedRecording,
    RecordingRefused,
    VoiceHeard,
    hear_voice,
    prepare_recording,
    wav_to_mp3,
)
from lessons.worker import AUDIO, VOICES


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"not base64 text: {value!r:.80}")
    return base64.b64decode(value, validate=True)


def _text(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wav_to_mp3_job(wav: str) -> str:
    """`wav_to_mp3` with base64 in and out."""
    return _text(wav_to_mp3(_bytes(wav)))


def wav_to_mp3_away(wav: bytes) -> bytes:
    """`wav_to_mp3`, done in the audio worker (ValueError: not audio it can read)."""
    return AUDIO.call("wav_to_mp3", _bytes, _text(wav))


def hear_voice_job(data: str, max_seconds: float, refuse_after: float) -> list[object]:
    """`hear_voice` with JSON values (the audio in base64)."""
    heard = hear_voice(_bytes(data), max_seconds=max_seconds, refuse_after=refuse_after)
    mp3 = None if heard.mp3 is None else _text(heard.mp3)
    return [mp3, heard.seconds, heard.too_long, heard.lufs]


def hear_voice_away(data: bytes, *, max_seconds: float, refuse_after: float) -> VoiceHeard:
    """`hear_voice`, done in the members' voices worker."""
    return VOICES.call("voice", _heard, _text(data), max_seconds, refuse_after)


def _heard(value: Any) -> VoiceHeard:
    """`hear_voice_job`'s answer (ValueError: not one)."""
    match value:
        case [str() | None as mp3, int() | float() as seconds, bool(too_long),
              int() | float() as lufs]:
            return VoiceHeard(None if mp3 is None else _bytes(mp3), float(seconds), too_long,
                              float(lufs))
    raise ValueError(f"not a voice heard: {value!r:.80}")


def prepare_recording_job(source: str, max_seconds: float, out: str) -> list[Any]:
    """`prepare_recording` of the file `source`, its MP3 written to `out`: ["ok", seconds,
    silences], or ["refused", reason, detail] (a refusal is an answer, not a failure)."""
    try:
        prepared = prepare_recording(source, max_seconds=max_seconds)
    except RecordingRefused as exc:
        return ["refused", exc.reason, str(exc)]
    Path(out).write_bytes(prepared.mp3)
    return ["ok", prepared.duration_s, [list(quiet) for quiet in prepared.silences]]


def prepare_recording_away(source: AudioSource, *, max_seconds: float) -> PreparedRecording:
    """`prepare_recording`, done in the audio worker (RecordingRefused as there)."""
    with tempfile.TemporaryDirectory(prefix="yehua-recording-") as folder:
        if isinstance(source, bytes):
            path = Path(folder) / "source"
            path.write_bytes(source)
        elif isinstance(source, str) or hasattr(source, "__fspath__"):
            path = Path(source)
        else:
            path = Path(folder) / "source"
            _copy(source, path)
        out = Path(folder) / "prepared.mp3"
        answer = AUDIO.call("recording", _recording_answer, str(path), max_seconds, str(out))
        if answer[0] == "refused":
            raise RecordingRefused(answer[1], answer[2])
        return PreparedRecording(out.read_bytes(), answer[1], answer[2])


def _copy(stream: IO[bytes], path: Path) -> None:
    stream.seek(0)
    with path.open("wb") as copy:
        shutil.copyfileobj(stream, copy)


def _recording_answer(value: Any) -> tuple[Any, ...]:
    """`prepare_recording_job`'s answer, checked: ("ok", seconds, silences) or ("refused",
    reason, detail); ValueError: neither."""
    match value:
        case ["refused", str(reason), str(detail)]:
            return ("refused", reason, detail)
        case ["ok", int() | float() as seconds, list(silences)]:
            return ("ok", float(seconds),
                    tuple((float(start), float(end)) for start, end in silences))
    raise ValueError(f"not a prepared recording: {value!r:.80}")
