"""A small bus that tells every part of the bot (and, on PostgreSQL, every instance) that
something was stored: payloads are ids to re-read from the database, never the things
themselves.

One instance on SQLite keeps it in this process (`LocalBus`), and the `yehua` command wakes the
running bot through a datagram socket in the data folder. Several instances on PostgreSQL use
LISTEN/NOTIFY (`bot.core.pgbus`, imported only then).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# The migration's triggers notify this channel at every commit that touches what the
# scheduler reads (schedule, schedule_target, timer, night_talk).
SCHEDULER = "yehua_scheduler"
# Web chat messages, as "<instance>:<message id>" after their commit.
WEBCHAT = "yehua_webchat"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD = 7999
WAKE_SOCKET = "wake.sock"

# Called with each payload on a channel; with None after the bus was cut off for a while, so
# the listener re-reads what it may have missed.
Listener = Callable[[str | None], Awaitable[None]]


class Bus(Protocol):
    """Where the bot says "this was stored" and hears it said, by itself or other instances."""

    def subscribe(self, channel: str, listener: Listener) -> None:
        """Call `listener` with every payload published on `channel` (before `start`)."""
        ...

    async def publish(self, channel: str, payload: str) -> None:
        """Tell every listener of `channel` (call after the commit of what it names)."""
        ...

    async def start(self) -> None:
        """Begin listening."""
        ...

    async def close(self) -> None:
        """Stop listening and let go of what the bus holds."""
        ...


def check_payload(payload: str) -> None:
    """Refuse a payload PostgreSQL would refuse, on SQLite too, so both behave alike."""
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError(f"a bus payload is ids, not bodies: {len(payload.encode())} bytes")


async def tell(listeners: list[Listener], payload: str | None) -> None:
    """Hand a payload to each listener; one listener's fault must not silence the others."""
    for listener in listeners:
        try:
            await listener(payload)
        except Exception:  # the bus is an error boundary for its listeners
            log.exception("a bus listener failed on %r", payload)


def wake_path(data_dir: Path) -> Path:
    """Where a running single-instance bot listens for the `yehua` command's wake-ups."""
    return data_dir / WAKE_SOCKET


def wake(data_dir: Path, channel: str = SCHEDULER) -> None:
    """Tell the bot running on this data folder that `channel`'s tables changed; no bot
    listening (or no such socket on this system) is no error: it notices within a minute."""
    family = getattr(socket, "AF_UNIX", None)
    if family is None:
        return
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(channel.encode(), str(wake_path(data_dir)))
    except OSError:
        return


class LocalBus:
    """The bus of one instance on SQLite: listeners in this process, plus the wake socket."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._listeners: dict[str, list[Listener]] = {}
        self._path = wake_path(data_dir) if data_dir is not None else None
        self._transport: asyncio.DatagramTransport | None = None
        self._woken: set[asyncio.Task[None]] = set()

    def subscribe(self, channel: str, listener: Listener) -> None:
        """See `Bus.subscribe`."""
        self._listeners.setdefault(channel, []).append(listener)

    async def publish(self, channel: str, payload: str) -> None:
        """See `Bus.publish`: the listeners run before this returns."""
        check_payload(payload)
        await tell(self._listeners.get(channel, []), payload)

    async def start(self) -> None:
        """Bind the wake socket (a stale one from a crash is replaced)."""
        family = getattr(socket, "AF_UNIX", None)
        if self._path is None or family is None:
            return
        sock: socket.socket | None = None
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            self._path.unlink(missing_ok=True)
            sock.bind(str(self._path))
        except OSError as exc:  # e.g. a path too long for a socket: the resync still comes
            if sock is not None:
                sock.close()
            log.warning("cannot listen on %s (%s): the yehua command's changes are noticed "
                        "within a minute", self._path, exc)
            return
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Waker(self._on_wake), sock=sock)

    def _on_wake(self, data: bytes) -> None:
        channel = data.decode(errors="replace")
        if channel not in self._listeners:
            return
        task = asyncio.create_task(tell(self._listeners[channel], channel))
        self._woken.add(task)
        task.add_done_callback(self._woken.discard)

    async def close(self) -> None:
        """Close and remove the wake socket; wait for the wake-ups being handled."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
            assert self._path is not None
            self._path.unlink(missing_ok=True)
        if self._woken:
            await asyncio.gather(*self._woken, return_exceptions=True)


class _Waker(asyncio.DatagramProtocol):
    """Each datagram names the channel whose tables the `yehua` command changed."""

    def __init__(self, on_wake: Callable[[bytes], None]) -> None:
        self._on_wake = on_wake

    def datagram_received(self, data: bytes, addr: object) -> None:
        self._on_wake(data[:64])


class Coalesced:
    """Runs `job` on every `poke`, but never twice at once: pokes during a run make one more
    run after it, however many they are (a burst of changes costs two reads, not a hundred)."""

    def __init__(self, job: Callable[[], Awaitable[None]]) -> None:
        self._job = job
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def poke(self) -> None:
        """Run the job soon: now if it is idle, after the current run if not."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self._job()
            except Exception:  # a failed run must not stop the next poke from running
                log.exception("a coalesced job failed")
            if not self._again:
                return

    async def listener(self, _payload: str | None) -> None:
        """A bus listener that pokes."""
        self.poke()

    async def close(self) -> None:
        """Cancel a run in progress and wait for it."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
