"""The database engine: SQLite in WAL mode by default, migrations applied at start-up."""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

import bot.core.models  # noqa: F401  (register the bot's tables)
import scheduler.models  # noqa: F401  (register the scheduler's tables)
from bot.core.adapter import StorageError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x7965687561  # PostgreSQL advisory lock key ("yehua") held while migrating
# Threads that run the database work reached from the event loop. A few suffice: SQLite takes
# one writer at a time, and the interpreter lock serialises most of SQLAlchemy's own work.
DB_THREADS = 4

P = ParamSpec("P")
T = TypeVar("T")
_pools: weakref.WeakKeyDictionary[Engine, ThreadPoolExecutor] = weakref.WeakKeyDictionary()

# How often a Checkpointer copies SQLite's log into the database file when anything was
# committed: the log grows by what the bot writes in that time.
CHECKPOINT_SECONDS = 0.5
# Copies made while writers go on before the one that holds them back: each copies what the
# writers added during the one before.
PASSIVE_PASSES = 2
# How long a checkpoint waits for the writer and readers to let the log start over; busy
# longer (a long report being read), it tries again the next time.
CHECKPOINT_WAIT_MS = 200
# The log file is cut back to this size when it starts over, after a burst made it larger.
WAL_SIZE_LIMIT = 16 * 1024 * 1024
# How long an SQLite write waits for another writer's lock before it fails as busy.
DEFAULT_BUSY_TIMEOUT_MS = 5000


def _as_null(value: None) -> None:
    return value


# sqlite3 binds a None through its adaptation protocol: with no adapter registered for it, it
# asks the protocol and the value for `__adapt__` and `__conform__`, two AttributeErrors made
# and dropped for every NULL bound, and the rows the inbound path writes bind dozens of them.
# An adapter for None is one lookup in its table.
sqlite3.register_adapter(type(None), _as_null)

# The disk said no: full, over quota, read-only, failing or not ours to write.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES,
                             errno.EPERM, errno.EFBIG})
# Faults of the database itself, not of what we asked of it: a bad statement or a broken
# constraint (ProgrammingError, IntegrityError, DataError) is our bug and would fail again.
_STORAGE_FAULTS = (StorageError, exc.OperationalError, exc.InterfaceError, exc.InternalError,
                   exc.TimeoutError)


def is_storage_fault(error: BaseException) -> bool:
    """Whether `error` says the storage could not take a write now (busy, full, down), so the
    same write may succeed later."""
    if isinstance(error, _STORAGE_FAULTS):
        return True
    if isinstance(error, exc.DBAPIError):  # e.g. sqlite3.DatabaseError "disk I/O error"
        return type(error) is exc.DatabaseError or type(error) is exc.DBAPIError
    return isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int,
                    checkpoints: bool) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    if not checkpoints:  # a Checkpointer does it, off the committing thread
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def make_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                checkpoints: bool = True) -> Engine:
    """Create an engine for `url`; SQLite gets WAL mode and its parent folder.

    `checkpoints=False`: SQLite's commits leave copying the log back into the database file to
    a `Checkpointer` (started by whoever asks for this).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The most recently returned connection is taken again: a SQLite connection keeps its
        # page cache only while no other connection has written since, so handing out the
        # same one (the event loop's writes and reads) saves reading the same pages anew.
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               pool_use_lifo=True)
        event.listen(engine, "connect",
                     partial(_sqlite_pragmas, busy_timeout_ms=busy_timeout_ms,
                             checkpoints=checkpoints))
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Instances starting together on one database: the first migrates, the others wait
            # for its commit here and then find the schema current.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                  checkpoints: bool = True) -> Engine:
    """Create the engine and migrate: the one call the app and the CLI make."""
    engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, checkpoints=checkpoints)
    migrate(engine)
    return engine


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


def open_pool(engine: Engine, threads: int = DB_THREADS) -> ThreadPoolExecutor:
    """Give `engine` its own bounded worker threads (the app does, at start-up)."""
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="yehua-db")
    _pools[engine] = pool
    return pool


async def close_pool(engine: Engine) -> None:
    """Let the engine's workers finish what they hold, then stop them."""
    pool = _pools.pop(engine, None)
    if pool is not None:
        await asyncio.to_thread(pool.shutdown)


async def run_db(engine: Engine, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking database work off the event loop, in the engine's worker threads.

    A query waiting out another writer's lock then holds a worker, never the loop: the bot
    keeps answering everything else meanwhile. An engine without workers of its own (a test
    driving one part alone) uses the loop's default threads.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pools.get(engine), partial(fn, *args, **kwargs))


async def in_session(engine: Engine, fn: Callable[Concatenate[Session, P], T],
                     *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(db, *args)` in a committing `session`, off the event loop (see `run_db`)."""

    def work() -> T:
        with session(engine) as db:
            return fn(db, *args, **kwargs)

    return await run_db(engine, work)


class LoopConnection:
    """The event loop's own SQLite connection, kept from one use to the next, that waits for
    no lock.

    The loop reads on it (in WAL mode a reader waits for no writer) and first tries its
    writes on it: should another writer hold the lock, SQLite says so at once (its busy
    timeout is zero) and the caller takes the write to a database thread to wait its turn
    there. Kept rather than taken from the pool for each use: taking and returning it, and
    setting its timeout each way, would cost more than most of the reads. A fault closes it
    (its timeout never reaches the pool's other users); the next use opens a new one.
    After `close` there is none: `closed` tells callers to go to the threads.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.closed = False
        self._connection: Connection | None = None

    def _open(self) -> Connection:
        connection = self._connection
        if connection is None:
            connection = self.engine.connect()
            driver = connection.connection.driver_connection
            assert driver is not None, "a connection in use has its driver's"
            driver.execute("PRAGMA busy_timeout=0").close()
            self._connection = connection
        return connection

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """The connection for reads, what they began ended after the block."""
        connection = self._open()
        try:
            yield connection
            connection.rollback()
        except BaseException:
            self._drop()
            raise

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """The connection in a transaction, committed at the end of the block."""
        connection = self._open()
        try:
            with connection.begin():
                yield connection
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(Exception):  # gone already: nothing more to close
                connection.invalidate()  # closed, never handed to another user
                connection.close()

    def close(self) -> None:
        self.closed = True
        self._drop()


class Checkpointer:
    """Copies SQLite's write-ahead log back into the database file from a thread of its own.

    Left to itself, SQLite does that inside whichever commit makes the log long enough: on the
    event loop, that commit then writes and syncs a thousand pages while every message waits.
    Here the commits only append to the log, and every `every` seconds, if anything was
    committed meanwhile, this thread copies it back and lets it start over: the log holds about
    a second's writes. Engines made with `checkpoints=False` need one running.
    """

    def __init__(self, engine: Engine, every: float = CHECKPOINT_SECONDS) -> None:
        self.engine = engine
        self.every = every
        self.runs = 0  # checkpoints done (for tests)
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._version: int | None = None
        # Its own thread: a checkpoint may take a while and must never hold up the queries
        # the database threads are there for.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yehua-checkpoint")

    def start(self) -> None:
        """Checkpoint from now on (an SQLite engine; nothing to do elsewhere)."""
        if self.engine.dialect.name == "sqlite" and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.every)
            try:
                await loop.run_in_executor(self._thread, self.checkpoint)
            except Exception as exc:  # tried again next time; the log meanwhile only grows
                log.warning("could not checkpoint the database's log: %s", exc)

    def checkpoint(self, *, whole: bool = False) -> bool:
        """Copy the log into the database file if anything was committed since the last time
        (`whole`: all of it, and empty the log); whether a checkpoint ran."""
        if self._connection is None:
            connection = self.engine.raw_connection()
            connection.detach()  # its own busy timeout from now on; closed, never pooled again
            connection.cursor().execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}").close()
            self._connection = connection
        cursor = self._connection.cursor()
        try:
            [(version,)] = cursor.execute("PRAGMA data_version").fetchall()
            if version == self._version and not whole:
                return False
            # Most of the log is copied while writers go on; then what they added meanwhile,
            # holding them back a moment (in the database threads, never on the loop), so the
            # log starts over: while writes keep coming, a passive copy alone is never complete
            # and the log would only grow.
            for _pass in range(PASSIVE_PASSES):  # each leaves less for the writers to wait on
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)" if whole
                           else "PRAGMA wal_checkpoint(RESTART)").fetchall()
            self._version = version
            self.runs += 1
            return True
        finally:
            cursor.close()

    async def close(self) -> None:
        """Stop, and copy the whole log back (so the database file alone is complete)."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._thread, partial(self.checkpoint, whole=True))
        except Exception as exc:  # the log stays; the next start's connection replays it
            log.warning("could not checkpoint the database's log: %s", exc)
        if self._connection is not None:
            await loop.run_in_executor(self._thread, self._connection.close)
            self._connection = None
        self._thread.shutdown()
