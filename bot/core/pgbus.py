"""The bus of several instances on one PostgreSQL: LISTEN/NOTIFY over psycopg's async driver.

One connection listens, one publishes (psycopg holds a connection's lock while it waits for
notifications). Each is opened again with a growing pause when it drops: payloads published
meanwhile are kept and sent then, and after the listening one comes back every listener is told
it may have missed something.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bot.core.bus import Listener, check_payload, tell

log = logging.getLogger(__name__)

FIRST_PAUSE, LONGEST_PAUSE = 0.2, 10.0
CONNECT_TIMEOUT = 10
APPLICATION_NAME = "yehua-bus"  # how the bus's connections show in pg_stat_activity
# A connection cut without a word (a cable, a firewall) is noticed within about half a minute.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}
# Payloads kept while the database is away; beyond this the oldest go (their listeners
# re-read after the reconnection anyway).
MAX_UNSENT = 10_000
PING_EVERY = 15.0


class PgBus:
    """LISTEN/NOTIFY on `url` (a libpq connection string or postgresql:// URL)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._listeners: dict[str, list[Listener]] = {}
        self._unsent: deque[tuple[str, str]] = deque(maxlen=MAX_UNSENT)
        self._wanted = asyncio.Event()
        self._ready = asyncio.Event()
        self._listened = False  # once: every later connection may have missed notes
        self._tasks: list[asyncio.Task[None]] = []
        self._dispatch: set[asyncio.Task[None]] = set()

    def subscribe(self, channel: str, listener: Listener) -> None:
        """See `Bus.subscribe`."""
        assert not self._tasks, "subscribe before the bus starts"
        self._listeners.setdefault(channel, []).append(listener)

    async def publish(self, channel: str, payload: str) -> None:
        """See `Bus.publish`: queued at once, sent in order as soon as the database is there."""
        check_payload(payload)
        self._unsent.append((channel, payload))
        self._wanted.set()

    async def start(self, wait: float = CONNECT_TIMEOUT) -> None:
        """Connect and listen; a database away at start-up is tried again in the background."""
        self._tasks = [asyncio.create_task(self._keep("listening", self._listen)),
                       asyncio.create_task(self._keep("publishing", self._publish))]
        try:
            await asyncio.wait_for(self._ready.wait(), wait)
        except TimeoutError:
            log.warning("bus: PostgreSQL does not answer yet; listening once it does")

    async def close(self) -> None:
        """Stop listening, close both connections."""
        tasks, self._tasks = self._tasks, []
        for task in [*tasks, *self._dispatch]:
            task.cancel()
        await asyncio.gather(*tasks, *self._dispatch, return_exceptions=True)

    async def _keep(self, role: str, session: Callable[[Callable[[], None]], Awaitable[None]]
                    ) -> None:
        """Run one connection's `session` again and again, pausing longer each time it fails
        before it got going."""
        pause = FIRST_PAUSE
        while True:
            worked = False

            def going() -> None:
                nonlocal worked, pause
                worked, pause = True, FIRST_PAUSE

            try:
                await session(going)
                reason = "it closed"
            except (psycopg.Error, OSError) as exc:
                reason = str(exc).strip() or type(exc).__name__
            except Exception as exc:  # the bus is an error boundary: whatever broke, go again
                log.exception("bus: the %s connection failed", role)
                reason = type(exc).__name__
            log.warning("bus: the %s connection to PostgreSQL was lost (%s); again in %.1f s",
                        role, reason, pause)
            await asyncio.sleep(pause)
            if not worked:
                pause = min(pause * 2, LONGEST_PAUSE)

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(
            make_conninfo(self._url, connect_timeout=CONNECT_TIMEOUT,
                          application_name=APPLICATION_NAME, **KEEPALIVES),
            autocommit=True)

    async def _listen(self, going: Callable[[], None]) -> None:
        async with await self._connect() as listening:
            for channel in self._listeners:
                await listening.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            going()
            if self._listened:
                log.info("bus: listening again")
                for listeners in self._listeners.values():
                    self._hand(listeners, None)
            self._listened = True
            self._ready.set()
            async for note in listening.notifies():
                self._hand(self._listeners.get(note.channel, []), note.payload)

    def _hand(self, listeners: list[Listener], payload: str | None) -> None:
        """Run the listeners in a task of their own: they read the database, and the bus must
        go on hearing meanwhile."""
        job = asyncio.create_task(tell(listeners, payload))
        self._dispatch.add(job)
        job.add_done_callback(self._dispatch.discard)

    async def _publish(self, going: Callable[[], None]) -> None:
        async with await self._connect() as publishing:
            going()
            while True:
                try:
                    await asyncio.wait_for(self._wanted.wait(), PING_EVERY)
                except TimeoutError:
                    # A connection that died while idle is found now, not when the next
                    # payload would be sent on it.
                    await publishing.execute("SELECT 1")
                    continue
                while self._unsent:
                    channel, payload = self._unsent[0]
                    # Taken off only once sent: a failure leaves it first in line for next time.
                    await publishing.execute("SELECT pg_notify(%s, %s)", (channel, payload))
                    self._unsent.popleft()
                self._wanted.clear()
