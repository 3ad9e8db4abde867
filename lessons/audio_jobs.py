"""PyAV's work as jobs for the audio worker's child, and the calls that send it there.

The bot calls the `*_away` functions: each runs in `lessons.worker.AUDIO`'s child, so PyAV and
FFmpeg's libraries (~20 MB) never stay in the bot's memory. The `*_job` functions are what the
child runs: JSON values in and out, bytes as base64.
"""

from __future__ import annotations

import base64
from typing import Any

from lessons.audio import VoiceHeard, hear_voice, wav_to_mp3
from lessons.worker import AUDIO


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
    return hear_voice(_bytes(data), max_seconds=max_seconds, refuse_after=refuse_after).to_json()


def hear_voice_away(data: bytes, *, max_seconds: float, refuse_after: float) -> VoiceHeard:
    """`hear_voice`, done in the audio worker."""
    return AUDIO.call("voice", VoiceHeard.from_json, _text(data), max_seconds, refuse_after)
