"""The console's sign-in guards: the session cookie, CSRF comparison, failed-login limits."""

from __future__ import annotations

import hmac
from collections import deque
from datetime import datetime, timedelta

SESSION_COOKIE = "yehua_session"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MAX_TRACKED = 10_000  # login-failure keys kept in memory; the oldest go first


def tokens_match(expected: str, given: str | None) -> bool:
    """Compare a CSRF token in constant time."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class LoginLimiter:
    """Counts failed logins per (username, address); too many in the window lock that pair."""

    def __init__(self, max_failures: int = MAX_FAILURES,
                 window: timedelta = FAILURE_WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def locked(self, username: str, address: str, now: datetime) -> bool:
        """Whether this pair has failed too often lately."""
        return len(self._recent((username.strip().lower(), address), now)) >= self.max_failures

    def failed(self, username: str, address: str, now: datetime) -> None:
        """Record one failed attempt."""
        key = (username.strip().lower(), address)
        times = self._recent(key, now)
        times.append(now)
        self._failures.pop(key, None)
        self._failures[key] = times  # re-inserted, so dict order is oldest activity first
        while len(self._failures) > MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, username: str, address: str) -> None:
        """Forget the failures of a pair that just signed in."""
        self._failures.pop((username.strip().lower(), address), None)
