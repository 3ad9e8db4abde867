"""The bus of several instances on one PostgreSQL: LISTEN/NOTIFY over psycopg's async driver.

One connection listens, one publishes (psycopg holds a connection's lock while it waits for
notifications). When either drops, both are opened again with a growing pause, payloads
published meanwhile are kept and sent then, and every listener is told it may have missed
something.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

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


class PgBus:
    """LISTEN/NOTIFY on `url` (a libpq connection string or postgresql:// URL)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._listeners: dict[str, list[Listener]] = {}
        self._unsent: deque[tuple[str, str]] = deque(maxlen=MAX_UNSENT)
        self._wanted = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._dispatch: set[asyncio.Task[None]] = set()

    def subscribe(self, channel: str, listener: Listener) -> None:
        """See `Bus.subscribe`."""
        assert self._task is None, "subscribe before the bus starts"
        self._listeners.setdefault(channel, []).append(listener)

    async def publish(self, channel: str, payload: str) -> None:
        """See `Bus.publish`: queued at once, sent in order as soon as the database is there."""
        check_payload(payload)
        self._unsent.append((channel, payload))
        self._wanted.set()

    async def start(self, wait: float = CONNECT_TIMEOUT) -> None:
        """Connect and listen; a database away at start-up is tried again in the background."""
        self._task = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(self._ready.wait(), wait)
        except TimeoutError:
            log.warning("bus: PostgreSQL does not answer yet; listening once it does")

    async def close(self) -> None:
        """Stop listening, close both connections."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for job in list(self._dispatch):
            job.cancel()
        await asyncio.gather(*self._dispatch, return_exceptions=True)

    async def _run(self) -> None:
        pause, cut_off = FIRST_PAUSE, False
        while True:
            try:
                await self._session(cut_off)
            except (psycopg.Error, OSError) as exc:
                log.warning("bus: PostgreSQL connection lost (%s); again in %.1f s",
                            str(exc).strip() or type(exc).__name__, pause)
            if self._ready.is_set():
                pause = FIRST_PAUSE  # it had worked: start the pauses over
            self._ready.clear()
            cut_off = True
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(
            make_conninfo(self._url, connect_timeout=CONNECT_TIMEOUT,
                          application_name=APPLICATION_NAME, **KEEPALIVES),
            autocommit=True)

    async def _session(self, cut_off: bool) -> None:
        """One life of both connections, until either fails."""
        async with await self._connect() as listening, await self._connect() as publishing:
            for channel in self._listeners:
                await listening.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self._ready.set()
            if cut_off:
                log.info("bus: PostgreSQL connection back")
                for listeners in self._listeners.values():
                    self._hand(listeners, None)
            hearing = asyncio.create_task(self._hear(listening))
            sending = asyncio.create_task(self._send(publishing))
            try:
                done, _ = await asyncio.wait({hearing, sending},
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            finally:
                for task in (hearing, sending):
                    task.cancel()
                await asyncio.gather(hearing, sending, return_exceptions=True)

    async def _hear(self, listening: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        async for note in listening.notifies():
            self._hand(self._listeners.get(note.channel, []), note.payload)
        raise psycopg.OperationalError("the listening connection closed")

    def _hand(self, listeners: list[Listener], payload: str | None) -> None:
        """Run the listeners in a task of their own: they read the database, and the bus must
        go on hearing meanwhile."""
        job = asyncio.create_task(tell(listeners, payload))
        self._dispatch.add(job)
        job.add_done_callback(self._dispatch.discard)

    async def _send(self, publishing: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        while True:
            await self._wanted.wait()
            while self._unsent:
                channel, payload = self._unsent[0]
                # Taken off only once sent: a failure leaves it first in line for next time.
                await publishing.execute("SELECT pg_notify(%s, %s)", (channel, payload))
                self._unsent.popleft()
            self._wanted.clear()
