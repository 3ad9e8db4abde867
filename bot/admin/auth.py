"""The console's sign-in guards: the session cookie, CSRF comparison, failed-login limits."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.db import in_session
from bot.domain.accounts import (
    clear_login_failures,
    count_login_failures,
    prune_login_failures,
    record_login_failure,
)

SESSION_COOKIE = "yehua_session"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


def tokens_match(expected: str, given: str | None) -> bool:
    """Compare a CSRF token in constant time."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class LoginLimiter:
    """Counts failed logins per (username, address); too many in the window lock that pair.

    The counts live in the database, so a restart or another instance sees the same lockout.
    """

    def __init__(self, engine: Engine, max_failures: int = MAX_FAILURES,
                 window: timedelta = FAILURE_WINDOW) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window = window

    async def locked(self, username: str, address: str, now: datetime) -> bool:
        """Whether this pair has failed too often lately."""
        recent = await in_session(self.engine, count_login_failures, username, address,
                                  now - self.window)
        return recent >= self.max_failures

    async def failed(self, username: str, address: str, now: datetime) -> None:
        """Record one failed attempt; failures older than the window are let go."""

        def record(db: Session) -> None:
            prune_login_failures(db, now - self.window)
            record_login_failure(db, username, address, now)

        await in_session(self.engine, record)

    async def succeeded(self, username: str, address: str) -> None:
        """Forget the failures of a pair that just signed in."""
        await in_session(self.engine, clear_login_failures, username, address)
