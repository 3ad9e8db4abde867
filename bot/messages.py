"""Normalized events and outgoing messages: the only shapes handlers and adapters share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message a person posted in a group, whatever the platform."""

    platform: str
    chat_id: str
    message_id: str
    user_id: str
    user_name: str
    text: str
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingText:
    """Text the bot posts; `lesson_slug` marks a lesson post."""

    text: str
    reply_to: str | None = None
    lesson_slug: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingAudio:
    """A voice clip the bot posts: an MP3 file inside the audio folder."""

    path: Path
    duration_s: float
    caption: str = ""
    lesson_slug: str | None = None
    subtitles: Path | None = None  # a SubRip file of what is said when, if the platform shows it


OutgoingMessage = OutgoingText | OutgoingAudio
