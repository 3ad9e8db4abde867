"""Platform adapters: one module per platform, one small protocol, typed errors."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.core.messages import IncomingMessage, OutgoingMessage

EventHandler = Callable[[IncomingMessage], Awaitable[None]]

# The platforms a group can be on (a group's `platform`): the web chat and each adapter the
# composition root can start. A group on any other would never be served.
PLATFORM_NAMES = ("web", "telegram", "onebot", "wecom", "dingtalk", "feishu")
# What people call them.
PLATFORM_ALIASES = {"qq": "onebot", "网页": "web", "网页群聊": "web", "企业微信": "wecom",
                    "钉钉": "dingtalk", "飞书": "feishu"}


class AdapterError(Exception):
    """Sending failed; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class RetryAfter(AdapterError):
    """The platform asked us to wait before sending again (flood control).

    `chat_only`: the limit is this chat's own (a group robot's per-minute budget), so only this
    chat waits; otherwise the whole platform pauses.
    """

    def __init__(self, seconds: float, *, chat_only: bool = False) -> None:
        super().__init__(f"retry after {seconds} s", transient=True)
        self.seconds = seconds
        self.chat_only = chat_only


class Unsupported(AdapterError):
    """The platform cannot carry this kind of message."""


class StorageError(Exception):
    """The bot's own storage could not answer an adapter (busy or down); a retry may help."""


@dataclass(frozen=True)
class RateLimits:
    """A platform's published sending limits; the outbox paces every send to stay inside them."""

    global_per_second: float | None = None  # all chats together (Telegram: 30)
    chat_per_second: float | None = None  # one chat (Telegram: 1)
    chat_per_minute: int | None = None  # one group chat (Telegram groups, WeCom, DingTalk: 20)
    # Whose `global_per_second` this is: the platform and a digest of the credentials (see
    # `account_key`). Instances sending with one account share one budget when the database is
    # shared; empty: this instance's own.
    account: str = ""


def account_key(platform: str, *credentials: str) -> str:
    """The send budget's key for one platform account, without revealing its credentials."""
    digest = hashlib.sha256("\0".join(credentials).encode()).hexdigest()[:16]
    return f"{platform}:{digest}"


NO_LIMITS = RateLimits()


@dataclass(frozen=True, slots=True)
class ChatMoved:
    """A platform gave a group a new chat id (a Telegram group that became a supergroup)."""

    platform: str
    old_chat_id: str
    new_chat_id: str


class Directory(Protocol):
    """What an adapter may learn about the bot's groups and members, without their tables.

    Each answer is awaited: the database work behind it runs off the event loop."""

    async def serves(self, platform: str, chat_id: str) -> bool:
        """Whether the chat is one of the bot's groups (else nothing is fetched for it)."""
        ...

    async def member_name(self, platform: str, chat_id: str, user_id: str) -> str | None:
        """The display name the bot knows a member of that chat by, if any."""
        ...

    async def chat_moved(self, moved: ChatMoved) -> None:
        """Follow a group to its new chat id."""
        ...

    async def accept_once(self, platform: str, signature: str, seen_at: datetime,
                          keep_for: timedelta) -> bool:
        """Record a signed request's signature: True the first time, False for a replay.

        Atomic across instances; signatures older than `keep_for` are forgotten (the platform's
        time window refuses them by then). StorageError when the database cannot answer."""
        ...

    async def forget_once(self, platform: str, signature: str) -> None:
        """Forget a recorded signature, so the platform's retry of a request the bot could not
        store is taken (by whichever instance it reaches). StorageError when that fails."""
        ...


class MediaStore(Protocol):
    """Where the files /media/ serves are kept for every instance (the local folder caches them).

    Each call is awaited: the database work behind it runs off the event loop."""

    async def put(self, name: str, data: bytes) -> None:
        """Keep a complete file under the name /media/ serves it by; StorageError if it cannot."""
        ...

    async def get(self, name: str) -> bytes | None:
        """The file kept under `name`, or None when there is none."""
        ...

    async def delete(self, names: Iterable[str]) -> None:
        """Forget these files, for every instance (names never kept are no error)."""
        ...

    async def forgotten(self, name: str) -> bool:
        """Whether the file was deleted (a copy an instance still holds must not be served)."""
        ...

    async def size_of(self, names: list[str]) -> int:
        """Bytes the files kept under these names take (deleted ones none)."""
        ...

    async def unseen(self, names: list[str]) -> list[str]:
        """Those of `names` never kept nor deleted."""
        ...


class SharedMedia(Protocol):
    """The media folder as the bot's side hands its files out (the adapters' `Media`)."""

    async def publish(self, path: Path) -> None:
        """Keep a complete file of the folder where every instance serves it, once per name."""
        ...

    async def discard(self, *paths: Path | None) -> None:
        """Remove files nothing keeps, from the folder and from where every instance looks."""
        ...


class Adapter(Protocol):
    """What every platform adapter offers the outbox and the app."""

    platform: str
    audio_format: str  # "mp3", "ogg" or "amr": what the platform plays as voice
    limits: RateLimits
    # Whether an answer for one member (OutgoingText.private_to) can go to them privately, so
    # it is paced as that member's chat; where not, it becomes a line in the group.
    private_answers: bool
    # Whether those private answers show inside the group's own chat (the web chat), so a
    # member can answer a question there; elsewhere questions stay in the group.
    private_in_chat: bool
    on_event: EventHandler | None  # the app sets the router here once it is built

    def setup(self, app: web.Application) -> None:
        """Register routes and background tasks on the shared aiohttp app."""

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Post one message to a chat; return the platform's message id."""
        ...


@runtime_checkable
class PreparesSends(Protocol):
    """An adapter that may have to wait before a message can go at once (a file it is already
    uploading for another chat); the outbox waits for it before asking for a send slot."""

    async def ready(self, message: OutgoingMessage) -> None:
        """Return when `message` can be sent without waiting on other sends."""
        ...
