"""One send budget per platform account, kept in PostgreSQL so every instance draws from it.

A token bucket in the table send_budget, on the database's own clock (the machines' clocks do
not matter), holding at most one token: sends stay evenly spaced across instances, never a
burst. Taking a slot is one upsert: refill by the time elapsed × the rate, take one token, and
answer how long until it is due; a negative balance is slots already promised to others, so
each instance is told its own turn and the turns never overlap. A pause (the platform's 429)
drives the balance down to the pause's worth, so every instance waits it out.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import TextClause

# At most one token waits unused: an idle account may send once at once, then at the rate.
BURST = 1.0

_NOW = "extract(epoch from clock_timestamp())::float8"
_REFILLED = (f"least(:burst, send_budget.tokens"
             f" + greatest({_NOW} - send_budget.refilled_at, 0) * :rate)")
_TAKE = text(f"""
    INSERT INTO send_budget (account, tokens, refilled_at) VALUES (:account, :burst - 1, {_NOW})
    ON CONFLICT (account) DO UPDATE SET tokens = {_REFILLED} - 1, refilled_at = {_NOW}
    RETURNING tokens""")
_PAUSE = text(f"""
    INSERT INTO send_budget (account, tokens, refilled_at)
    VALUES (:account, -:seconds * :rate, {_NOW})
    ON CONFLICT (account) DO UPDATE
    SET tokens = least({_REFILLED}, -:seconds * :rate), refilled_at = {_NOW}""")


class DatabaseBudget:
    """The shared `Budget` of the pacers, one row per platform account."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Its own thread: every send waits on this round trip, so it must not queue behind
        # other database work.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yehua-budget")
        self._connection: Connection | None = None  # used only in that thread

    async def take(self, account: str, rate: float) -> float:
        """Reserve the account's next send slot; return the seconds until it is due."""
        tokens = await self._run(_TAKE, account=account, rate=rate, burst=BURST)
        return max(0.0, -tokens / rate)

    async def pause(self, account: str, rate: float, seconds: float) -> None:
        """No slot of the account is due before `seconds` from now, on any instance."""
        await self._run(_PAUSE, account=account, rate=rate, burst=BURST, seconds=seconds)

    async def _run(self, statement: TextClause, **params: object) -> float:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, partial(self._execute, statement,
                                                                params))

    def _execute(self, statement: TextClause, params: dict[str, object]) -> float:
        # One statement, atomic by itself: autocommit on a connection kept open makes it one
        # round trip, which matters with a distant database.
        if self._connection is None or self._connection.closed:
            self._connection = self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
        try:
            result = self._connection.execute(statement, params)
            return float(result.scalar() or 0.0) if result.returns_rows else 0.0
        except Exception:
            self._connection.close()  # a fresh one next time
            self._connection = None
            raise

    def close(self) -> None:
        """Let the last call finish, then give the connection back."""
        def release() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._thread.submit(release)
        self._thread.shutdown(wait=True)
