"""What the web chat keeps, asked through one protocol: rooms, members and messages.

Messages come back as the browser sees them (JSON-ready dicts), so the adapter only carries
them to the page and the sockets. Failures of the storage come as `StorageError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.core.messages import OutgoingText

Payload = dict[str, Any]
# A stored message to show on this instance's sockets: its room, its payload, and the one member
# it is for (None: everyone in the room).
Relayed = tuple[str, Payload, str | None]


class Room(Protocol):
    """A web room as its page shows it."""

    @property
    def chat_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def hamlet(self) -> str: ...

    @property
    def timezone(self) -> str: ...


class ChatStore(Protocol):
    """Where the web chat's rooms, members and messages live; every call is awaited, as the
    storage may have to wait (for another writer, say) and the event loop must not."""

    async def room(self, chat_id: str) -> Room | None:
        """The web room with this chat id, if there is one."""
        ...

    async def rooms(self) -> list[dict[str, str]]:
        """Every web room for the room list: link, name, hamlet, when it last spoke."""
        ...

    async def history(self, chat_id: str, *, before: int | None, after: int | None, limit: int,
                      viewer: str | None = None) -> tuple[list[Payload], bool]:
        """One page of a room's messages, oldest first, and whether more lies beyond it.

        Answers meant for one member alone are in it only when `viewer` is that member."""
        ...

    async def join(self, chat_id: str, user_id: str, name: str) -> str:
        """Record a member (or their new name); the tag browsers know their messages by."""
        ...

    async def member_name(self, chat_id: str, user_id: str) -> str | None:
        """The name a member said hello with, if they ever did."""
        ...

    async def name_refusal(self, chat_id: str, user_id: str, name: str) -> str | None:
        """Why a member may not go by `name` in the room (Chinese), or None if they may."""
        ...

    async def voices_today(self, chat_id: str, user_id: str, now: datetime) -> int:
        """How many voice messages the member sent to the room today, in the room's time."""
        ...

    async def photos_today(self, chat_id: str, user_id: str, now: datetime) -> int:
        """How many pictures the member sent to the room today, in the room's time."""
        ...

    async def add_photo(self, chat_id: str, user_id: str, name: str, image_url: str,
                        text: str) -> Payload:
        """Store a member's picture with its caption, recording the member too."""
        ...

    async def voice_files(self) -> list[str]:
        """The file names (in the audio folder) of the members' voices still kept."""
        ...

    async def add_text(self, chat_id: str, user_id: str, name: str, text: str) -> Payload:
        """Store what a member wrote."""
        ...

    async def add_voice(self, chat_id: str, user_id: str, name: str, audio_url: str,
                  duration_s: float) -> Payload:
        """Store a member's voice message, recording the member too."""
        ...

    async def open_talk(self, chat_id: str) -> int | None:
        """The number of the room's night talk that is open now, if one is (for 签到)."""
        ...

    async def add_bot_text(self, chat_id: str, message: OutgoingText) -> Payload | None:
        """Store a bot text (its mention and quoted reply resolved); None if no such room.

        A text with `private_to` is stored for that member alone (its payload says "private")."""
        ...

    async def add_bot_audio(self, chat_id: str, *, caption: str, audio_url: str,
                            duration_s: float,
                            lesson_slug: str | None, subtitle_url: str | None) -> Payload | None:
        """Store a bot voice clip; None if there is no such room."""
        ...

    async def relayed(self, message_ids: list[int] | None = None, *, after: int = 0,
                      limit: int = 500) -> list[Relayed]:
        """Stored messages another instance announced: those in `message_ids`, or else every
        one after the id `after` (oldest first, `limit` at most)."""
        ...
