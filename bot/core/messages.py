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
    reply_to: str | None = None  # the message this one replies to, if the platform says
    voice: Path | None = None  # a voice message, saved as MP3 in the audio folder
    platform_role: str | None = None  # "owner", "admin" or "member", as the platform reports it


@dataclass(frozen=True, slots=True)
class OutgoingText:
    """Text the bot posts; `lesson_slug` marks a lesson post."""

    text: str
    reply_to: str | None = None  # answer this platform message (quote it) where possible
    lesson_slug: str | None = None
    mention: str | None = None  # a user id to @-mention where the platform allows


@dataclass(frozen=True, slots=True)
class OutgoingAudio:
    """A voice clip the bot posts: an MP3 file inside the audio folder."""

    path: Path
    duration_s: float
    caption: str = ""
    lesson_slug: str | None = None
    subtitles: Path | None = None  # a SubRip file of what is said when, if the platform shows it


OutgoingMessage = OutgoingText | OutgoingAudio
