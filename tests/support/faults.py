"""Faults of the bot's own storage, made from outside it: a full database, a write lock held
by another connection, a disk that fills up in the middle of writing a file."""

from __future__ import annotations

import resource
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

NO_PAGE_LIMIT = 4294967294  # SQLite clamps this to its own largest page count
FAST_BUSY_MS = 100  # how long the app's writes wait for a held lock in these tests
# Texts long enough that two of them never share one 4 KiB page: once the first is stored, the
# second needs a new page, which a full database cannot give (suggestions hold 1,000 chars).
LONG_A = "建议 " + "村东头的路灯坏了好几盏，晚上老人出门看不清路，容易摔跤。" * 33
LONG_B = "建议 " + "村里的垃圾桶不够用，夏天一热就有味道，能不能多放几个。" * 34


class FullDatabase:
    """The app's own SQLite file, kept from growing: every transaction the app begins on its
    engine's connections (those it keeps included) gets `PRAGMA max_page_count` set to the
    file's size while the fault lasts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.limit: int | None = None
        event.listen(engine, "begin", self._apply)

    def _apply(self, connection: Connection) -> None:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(f"PRAGMA max_page_count = {self.limit or NO_PAGE_LIMIT}")

    def fill(self) -> None:
        """From now on the file cannot grow by a page: no free pages are left inside it."""
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            if raw.execute("PRAGMA freelist_count").fetchone()[0]:
                raw.execute("VACUUM")
            self.limit = int(raw.execute("PRAGMA page_count").fetchone()[0])

    def clear(self) -> None:
        """Room again, as after the secretary freed some disk."""
        self.limit = None


@contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) for the block."""
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


@contextmanager
def disk_fills_at(size: int) -> Iterator[None]:
    """No file this process writes may grow past `size` bytes for the block (RLIMIT_FSIZE):
    a write past it fails with EFBIG after writing what fitted, as on a disk that filled up.
    Works as root too, where a read-only folder would not stop a write."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills us
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
