"""The open web chat's own brakes: how fast one member or socket may post, new names per address.

These live in this process's memory: they guard against a burst, and a restart forgiving a
burst costs nothing. What must survive a restart (daily caps) is counted from the database.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.adapters.media import VoiceRefused


class Refused(VoiceRefused):
    """A message or a member the web chat will not take; `about` is "name" for a bad name."""

    def __init__(self, status: int, text: str, *, about: str | None = None) -> None:
        super().__init__(status, text)
        self.about = about


@dataclass(frozen=True)
class ChatLimits:
    """The web chat's limits; 0 turns a limit off."""

    messages: int = 5  # per member and per socket within `window_s`
    window_s: int = 10
    voices_per_day: int = 30  # per member and room
    voice_quota_bytes: int = 1024 * 1024 * 1024  # all members' voice files together
    photos_per_day: int = 10  # per member and room
    new_ids_per_hour: int = 20  # new web identities from one client address


class Window:
    """At most `limit` events per key within `span`, the oldest leaving as time moves on."""

    def __init__(self, limit: int, span: timedelta) -> None:
        self.limit = limit
        self.span = span
        self._events: dict[Hashable, deque[datetime]] = {}

    def wait(self, key: Hashable, now: datetime) -> float:
        """Seconds until `key` may act again; 0 when it may now (nothing is counted yet)."""
        if not self.limit:
            return 0.0
        events = self._events.get(key)
        if events is None:
            return 0.0
        while events and now - events[0] >= self.span:
            events.popleft()
        if not events:
            del self._events[key]
            return 0.0
        if len(events) < self.limit:
            return 0.0
        return max(0.0, (events[0] + self.span - now).total_seconds())

    def count(self, key: Hashable, now: datetime) -> None:
        """Record one event of `key` at `now`."""
        if self.limit:
            self._events.setdefault(key, deque()).append(now)
            if len(self._events) > 10_000:
                self._forget(now)

    def forget(self, key: Hashable) -> None:
        """Drop what is known of `key` (a socket that closed)."""
        self._events.pop(key, None)

    def _forget(self, now: datetime) -> None:
        """Drop keys whose events have all aged out, so memory follows the active members."""
        for key in [k for k, events in self._events.items()
                    if not events or now - events[-1] >= self.span]:
            del self._events[key]
