"""Normalized events and outgoing messages: the only shapes handlers and adapters share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# C0 controls but tab and newline, DEL, C1 controls, the bidirectional overrides that make a
# name or a text display as something else than it says, and half a surrogate pair (a JSON
# escape can carry one alone; no text holding one can be stored or sent).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """`text` without control characters; tabs and newlines stay (a CR LF becomes LF)."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text


def one_line(text: str) -> str:
    """A name: controls dropped, runs of whitespace (newlines too) made one space."""
    return " ".join(strip_controls(text).split())


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
    photo: Path | None = None  # a picture, saved as it came (JPEG/PNG/WebP/GIF) in media
    # Why a picture that came with the message was not taken (too big, not a picture): the
    # member hears it when the picture was meant for a suggestion.
    photo_refused: str | None = None
    # The words of the bot's own message this one replies to, where the platform sends them
    # along (Telegram): a reply to 「…是第 12 号」 is about suggestion 12.
    replied_text: str | None = None
    mentions: tuple[str, ...] = ()  # user ids the message @-mentions (not the bot), in order

    def __post_init__(self) -> None:
        # Every platform's messages pass here: what is stored and exported is clean from here on.
        object.__setattr__(self, "user_name", one_line(self.user_name))
        object.__setattr__(self, "text", strip_controls(self.text))


@dataclass(frozen=True, slots=True)
class OutgoingText:
    """Text the bot posts; `lesson_slug` marks a lesson post."""

    text: str
    reply_to: str | None = None  # answer this platform message (quote it) where possible
    lesson_slug: str | None = None
    mention: str | None = None  # a user id to @-mention where the platform allows
    # An answer for one member alone: sent to `private_to` privately where the platform can;
    # where it cannot, `group_line(...)` as an @-reply in the group, or nothing at all when
    # `in_group` is False (a thank-you nobody else needs to read).
    private_to: str | None = None
    in_group: bool = True
    short: str | None = None  # the one line to use in the group instead of `text`
    # A question the member answers in this chat (「确认」, 「是」): private only where the private
    # answer shows inside the chat itself; elsewhere the whole text as a quoted group reply, since
    # an answer typed in a private chat would never reach the group it belongs to.
    answered_here: bool = False


GROUP_LINE_CHARS = 60


def group_line(message: OutgoingText) -> str:
    """The one short line a private answer becomes where only the group can be answered."""
    line = message.short or next((ln.strip() for ln in message.text.splitlines() if ln.strip()),
                                 "")
    line = " ".join(line.split())
    return line if len(line) <= GROUP_LINE_CHARS else line[: GROUP_LINE_CHARS - 1] + "…"


def in_chat_question(message: OutgoingText) -> OutgoingText:
    """A question for one member on a platform whose private messages leave the group's chat:
    the whole text as a quoted reply in the group."""
    return OutgoingText(message.text, reply_to=message.reply_to)


def as_group_reply(message: OutgoingText) -> OutgoingText | None:
    """An answer for one member, as a platform without private messages sends it: one short
    line @-mentioning them in the group; None when it is not for the group at all."""
    if message.private_to is None:
        return message
    if not message.in_group:
        return None
    return OutgoingText(group_line(message), reply_to=message.reply_to,
                        mention=message.private_to)


@dataclass(frozen=True, slots=True)
class OutgoingAudio:
    """A voice clip the bot posts: an MP3 file inside the audio folder."""

    path: Path
    duration_s: float
    caption: str = ""
    lesson_slug: str | None = None
    subtitles: Path | None = None  # a SubRip file of what is said when, if the platform shows it


OutgoingMessage = OutgoingText | OutgoingAudio
