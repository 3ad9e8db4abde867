"""Counts of routine events, logged once a minute instead of a line per event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

INTERVAL_S = 60.0


class PerMinute:
    """Counts one kind of event; its timer logs the count a minute after the first one of a
    quiet spell, and only when there was one: an idle bot writes nothing."""

    def __init__(self, log: logging.Logger, what: str, interval_s: float = INTERVAL_S, *,
                 detail: Callable[[], str] | None = None) -> None:
        self.log = log
        self.what = what
        self.interval_s = interval_s
        self.detail = detail  # more to say on the count's line, e.g. in how many commits
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, count: int = 1) -> None:
        """Count `count` events (on the event loop)."""
        self._count += count
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval_s, self.flush)

    def flush(self) -> None:
        """Log the count so far, if any, and start afresh."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._count:
            more = f" ({self.detail()})" if self.detail is not None else ""
            self.log.info("%s: %d in the last minute%s", self.what, self._count, more)
            self._count = 0
