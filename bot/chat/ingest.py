"""Inbound writes in batches: the messages that arrive together share one transaction.

A platform's webhook is answered only once what it brought is committed. Committing each
message on its own costs a transaction apiece; here every handler that reaches a write within
the same few turns of the event loop joins one batch, the batch is written with one statement
per table and one commit, and then each handler goes on with its own result. Should the batch
fail, its items are written again one by one, so a bad item fails alone and loses nobody else's;
should the storage itself fail (busy, full, down), every item fails at once with StorageError,
which the router passes on so the platform delivers the message again.
Who sent a message is looked up the same way: one query for the messages that arrive together;
on SQLite a member once read (or stored new) is kept, and each lookup reads one number instead
(`member_change`, counted by triggers whenever any process changes or removes a member or a
屋场): when it moved, the members are read afresh.
The event loop never waits for the database: whatever might wait runs in the engine's database
threads (`run_db`). On SQLite, readers never wait for the writer (WAL), so senders are looked up
on the loop's own connection (`LoopConnection`); and a batch is first written there, with the
busy timeout at zero, which is as fast as writing gets: should another process hold the write
lock, SQLite says so at once and the batch goes to a database thread to wait its turn there.
Other databases do both in the threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Connection, Engine

from bot.core.adapter import StorageError
from bot.core.counting import PerMinute
from bot.core.db import LoopConnection, is_storage_fault, run_db
from bot.core.models import Group, Hamlet, Member, Role
from bot.domain.members import Seen, remember_members
from bot.domain.suggestions import Raised, store_suggestions
from bot.outbox.replies import store_replies
from scheduler.dbtypes import driver_rows

log = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")
Write = Callable[[Connection, Sequence[ItemT]], list[ResultT]]

_GROUPS: Table = Group.__table__  # type: ignore[attr-defined]
_MEMBERS: Table = Member.__table__  # type: ignore[attr-defined]
_HAMLETS: Table = Hamlet.__table__  # type: ignore[attr-defined]
_GROUP_COLUMNS = tuple(column.name for column in _GROUPS.columns)
_GROUP_ID = _GROUP_COLUMNS.index("id")
# The groups messages came from, and what the bot knows of their senders there (with the
# sender's 屋场): two queries for all the messages of one platform that arrive together. Apart,
# each group's columns are read once, not once for every sender in it.
_GROUPS_OF_CHATS = select(_GROUPS).where(_GROUPS.c.platform == bindparam("platform"),
                                         _GROUPS.c.chat_id.in_(bindparam("chats", expanding=True)))
_MEMBERS_OF_USERS = (
    select(_MEMBERS.c.group_id, _MEMBERS.c.user_id, _MEMBERS.c.role, _MEMBERS.c.display_name,
           _HAMLETS.c.name)
    .select_from(_MEMBERS.outerjoin(_HAMLETS, _HAMLETS.c.id == _MEMBERS.c.hamlet_id))
    .where(_MEMBERS.c.group_id.in_(bindparam("groups", expanding=True)),
           _MEMBERS.c.user_id.in_(bindparam("users", expanding=True)))
)
# The same two on SQLite, as the driver's own statements (read on the loop: SQLAlchemy's
# building of them for every batch costs more than SQLite's answering them).
_GROUPS_SQL = (f"SELECT {', '.join(_GROUP_COLUMNS)} FROM chat_group "
               "WHERE platform = ? AND chat_id IN")
# The senders are looked up pair by pair: with a list of groups and one of users, SQLite
# would probe the member index once for every group and user crossed.
_MEMBERS_SQL = ("WITH wanted(group_id, user_id) AS (VALUES {pairs}) "
                "SELECT member.group_id, member.user_id, member.role, member.display_name, "
                "hamlet.name FROM wanted JOIN member ON member.group_id = wanted.group_id "
                "AND member.user_id = wanted.user_id "
                "LEFT OUTER JOIN hamlet ON hamlet.id = member.hamlet_id")
_MEMBER_CHANGES_SQL = "SELECT count FROM member_change WHERE id = 1"
# How many members a bot keeps at most (about 300 bytes each, 6 MB in all): a village's groups
# have a few thousand; past this many, it starts over.
MEMBERS_KEPT = 20_000
# A role as SQLAlchemy stores it (the enum's name) and reads it back.
_ROLE_STORED = {role.name: role for role in Role}
SenderKey = tuple[str, str, str]  # platform, chat id, user id
# A group's row, once read for a message, serves its chat's messages for this long: a burst
# reads its groups once a second rather than with every batch, and a change to a group (its
# name, its time zone, a group removed) takes effect within a second. A chat that is not
# served is looked for again at every message, so a group just added is served at once.
GROUP_FRESH_S = 1.0
# How many turns of the event loop a batch may wait for more messages to join it.
LINGER_TURNS = 4
# Then, once a turn brought none, how long it waits for those still on their way: the loop is
# idle meanwhile (nothing was ready), and a millisecond's wait costs less than the commit or
# the query it saves.
LINGER_S = 0.001


async def while_growing(pending: Sized, turns: int = LINGER_TURNS,
                        linger: float = LINGER_S) -> None:
    """Let the loop run while `pending` keeps growing (at most `turns` turns), then `linger`
    seconds more: the messages being read right now, and those arriving in that moment,
    join the batch instead of waiting for the next one."""
    size = -1
    for _ in range(turns):
        if len(pending) == size:
            if linger:
                await asyncio.sleep(linger)
            return
        size = len(pending)
        await asyncio.sleep(0)


class Batcher(Generic[ItemT, ResultT]):
    """Collects the items submitted in the same few turns of the event loop and writes them
    in one transaction: the busier the bot, the larger the batches.

    One batch is written at a time; the next one gathers meanwhile.
    """

    def __init__(self, engine: Engine, write: Write[ItemT, ResultT], what: str, *,
                 on_loop: LoopConnection | None = None) -> None:
        self.engine = engine
        self.write = write
        self.what = what
        self._pending: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions it took (for benchmarks and tests)
        # Handing every batch to a thread and back is slow (the threads share the interpreter
        # lock); trying first on the loop costs nothing when it succeeds (SQLite).
        self._on_loop = on_loop

    async def submit(self, item: ItemT) -> ResultT:
        """Write `item` with whatever else arrives meanwhile; its result once committed."""
        return await self.enqueue(item)

    def enqueue(self, item: ItemT) -> asyncio.Future[ResultT]:
        """`submit` without waiting: the future of its result, for the caller to await once
        it has queued what else it writes (which then joins the same batch)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ResultT] = loop.create_future()
        self._pending.append((item, future))
        if self._runner is None:
            self._runner = loop.create_task(self._run())
        return future

    async def _run(self) -> None:
        try:
            while self._pending:
                await while_growing(self._pending)
                pending, self._pending = self._pending, []
                items = [item for item, _future in pending]
                outcomes = self._write_at_once(items)
                if outcomes is None:
                    outcomes = await run_db(self.engine, self._write_all, items)
                for (_item, future), outcome in zip(pending, outcomes, strict=True):
                    _settle(future, outcome)
        finally:
            self._runner = None

    def _write_at_once(self, items: list[ItemT]) -> list[ResultT | BaseException] | None:
        """The batch in one SQLite transaction that waits for no lock; None if it did not go
        through (another writer holds the lock, or anything else): `_write_all` then decides."""
        if self._on_loop is None or self._on_loop.closed:
            return None
        try:
            with self._on_loop.writing() as connection:
                results = self.write(connection, items)
        except Exception:  # written again in a database thread, with the full busy timeout
            return None
        self.batches += 1
        return list(results)

    def _write_all(self, items: list[ItemT]) -> list[ResultT | BaseException]:
        """One transaction, or one per item if the batch fails."""
        try:
            return list(self._commit(items))
        except Exception as exc:  # retried item by item below
            if is_storage_fault(exc):  # not one bad item: the others would fail alike
                return [storage_error(exc) for _item in items]
            if len(items) == 1:
                return [exc]
            log.warning("a batch of %d %s failed (%s); writing them one by one", len(items),
                        self.what, exc)
        outcomes: list[ResultT | BaseException] = []
        for item in items:
            try:
                outcomes.extend(self._commit([item]))
            except Exception as one:  # goes to that item's own handler
                outcomes.append(storage_error(one) if is_storage_fault(one) else one)
        return outcomes

    def _commit(self, items: list[ItemT]) -> list[ResultT]:
        with self.engine.begin() as connection:
            results = self.write(connection, items)
        self.batches += 1
        return results


def storage_error(error: Exception) -> StorageError:
    """A storage fault as a new StorageError (one per waiting handler), its cause kept."""
    wrapped = StorageError(f"storage failed: {error}")
    wrapped.__cause__ = error
    return wrapped


def _settle(future: asyncio.Future[ResultT], outcome: ResultT | BaseException) -> None:
    if future.done():  # its handler was cancelled: what it brought is stored all the same
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


@dataclass(frozen=True)
class Answer:
    """An answer to a chat message to store (`reply_row`)."""

    row: dict[str, Any]


InboundWrite = Seen | Raised | Answer  # what the inbound path writes


def write_together(connection: Connection, items: Sequence[InboundWrite]) -> list[Any]:
    """Members first (a suggestion's author is then known), then suggestions with their
    points and receipts, then answers: one statement per table, each item's result in place."""
    results: list[Any] = [None] * len(items)
    # Each kind's places in the batch, and its items.
    kinds: dict[type, tuple[list[int], list[Any]]] = {Seen: ([], []), Raised: ([], []),
                                                      Answer: ([], [])}
    for place, item in enumerate(items):
        places, mine = kinds[type(item)]
        places.append(place)
        mine.append(item)
    writes: tuple[tuple[type, Write[Any, Any]], ...] = (
        (Seen, remember_members), (Raised, store_suggestions), (Answer, _store_answers))
    for kind, write in writes:
        places, mine = kinds[kind]
        if mine:
            for place, result in zip(places, write(connection, mine), strict=True):
                results[place] = result
    return results


def _store_answers(connection: Connection, answers: Sequence[Answer]) -> list[None]:
    return store_replies(connection, [answer.row for answer in answers])


@dataclass(frozen=True)
class Sender:
    """Where a message came from and what the bot knew of its sender before it."""

    group: Group
    role: Role | None  # None: never seen in this group
    name: str | None
    hamlet: str = ""  # the 屋场 the sender belongs to, if they were placed in one


class Ingest:
    """The inbound path's storage: who sent a message, and the batched writes it causes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite's readers never wait for its writer (WAL): senders are read at once on the
        # loop, and a batch is first written there too.
        self._loop = LoopConnection(engine) if engine.dialect.name == "sqlite" else None
        # Members, suggestions and answers share one batch and its one commit: a message's
        # new member and the suggestions and answers of the messages before it go together.
        self.writes: Batcher[InboundWrite, Any] = Batcher(engine, write_together, "writes",
                                                          on_loop=self._loop)
        # The last Group built for each group id, with the column values it was built from:
        # building a table model costs more than the query, and groups seldom change.
        self._groups: dict[int, tuple[tuple[Any, ...], Group]] = {}
        # Each served chat's group as last read, and when (`GROUP_FRESH_S`).
        self._fresh: dict[tuple[str, str], tuple[float, Group]] = {}
        # The members read or stored on SQLite, by (group id, user id): (role, display name,
        # 屋场 name), good while `member_change` counts what it counted when they were read
        # (None: nothing counts, nothing is kept). A member's next message needs no query.
        self._members: dict[tuple[int, str], tuple[Role, str, str | None]] = {}
        self._members_as_of: int | None = None
        self._lookups: list[tuple[SenderKey, asyncio.Future[Sender | None]]] = []
        self._looking: asyncio.Task[None] | None = None
        self._read_as_stored = engine.dialect.name == "sqlite"
        dialect = engine.dialect
        self._group_readers = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                               for column in _GROUPS.columns]
        # Operators see how many a minute; each one is a DEBUG line (a line apiece would cost
        # more than storing it).
        self.stored = PerMinute(log, "suggestions stored", detail=self._commits)
        self._commits_seen = 0
        self.unserved = PerMinute(log, "messages from groups not served (ignored)")

    async def sender(self, platform: str, chat_id: str, user_id: str) -> Sender | None:
        """The group the message came from and its sender's role and name; None if unknown.

        The messages that arrive in the same turn of the event loop are looked up together.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Sender | None] = loop.create_future()
        self._lookups.append(((platform, chat_id, user_id), future))
        if self._looking is None:
            self._looking = loop.create_task(self._look_up())
        return await future

    async def _look_up(self) -> None:
        try:
            await while_growing(self._lookups, linger=0)
        finally:
            self._looking = None
        lookups, self._lookups = self._lookups, []
        try:
            keys = {key for key, _future in lookups}
            if self._loop is not None and not self._loop.closed:
                with self._loop.reading() as connection:
                    found = self._senders(connection, keys)
            else:
                found = await run_db(self.engine, self._senders_apart, keys)
        except Exception as exc:  # each message's own error boundary reports it
            for _key, future in lookups:
                _settle(future, storage_error(exc) if is_storage_fault(exc) else exc)
            return
        for key, future in lookups:
            _settle(future, found.get(key))

    def _senders_apart(self, keys: set[SenderKey]) -> dict[SenderKey, Sender]:
        with self.engine.connect() as connection:
            return self._senders(connection, keys)

    def _senders(self, connection: Connection, keys: set[SenderKey]
                 ) -> dict[SenderKey, Sender]:
        found: dict[SenderKey, Sender] = {}
        for platform in {platform for platform, _chat, _user in keys}:
            wanted = [key for key in keys if key[0] == platform]
            groups = self._served(connection, platform, {c for _p, c, _u in wanted})
            if not groups:
                continue
            chat_of = {group.id: chat for chat, group in groups.items()}
            pairs = sorted({(groups[chat].id or 0, user) for _p, chat, user in wanted
                            if chat in groups})
            known = {(chat_of[group_id], user): (role, name, hamlet)
                     for group_id, user, role, name, hamlet in self._members_of(
                         connection, pairs)}
            for key in wanted:
                group = groups.get(key[1])
                if group is None:
                    continue
                member = known.get(key[1:])
                found[key] = (Sender(group, member[0], member[1], member[2] or "")
                              if member is not None else Sender(group, None, None))
        return found

    def _served(self, connection: Connection, platform: str, chats: set[str]
                ) -> dict[str, Group]:
        """The groups of the platform's `chats` that the bot serves, by chat id: read within
        the last `GROUP_FRESH_S`, or now."""
        now = time.monotonic()
        groups: dict[str, Group] = {}
        stale: list[str] = []
        for chat in sorted(chats):
            known = self._fresh.get((platform, chat))
            if known is not None and now - known[0] < GROUP_FRESH_S:
                groups[chat] = known[1]
            else:
                stale.append(chat)
                self._fresh.pop((platform, chat), None)  # perhaps no longer served
        if stale:
            for values in self._groups_of(connection, platform, stale):
                made = self._group(values)
                groups[made.chat_id] = made
                self._fresh[(platform, made.chat_id)] = (now, made)
        return groups

    def _groups_of(self, connection: Connection, platform: str, chats: list[str]
                   ) -> list[tuple[Any, ...]]:
        """The columns of the platform's groups among `chats`: as stored (SQLite), or as
        SQLAlchemy reads them (elsewhere)."""
        if self._read_as_stored:
            marks = ", ".join("?" * len(chats))
            return driver_rows(connection, f"{_GROUPS_SQL} ({marks})", [platform, *chats])
        return [tuple(row) for row in connection.execute(
            _GROUPS_OF_CHATS, {"platform": platform, "chats": chats})]

    def _members_of(self, connection: Connection, pairs: list[tuple[int, str]]
                    ) -> list[tuple[Any, ...]]:
        """(group id, user id, role, display name, hamlet) of the (group id, user id) `pairs`
        that are known members (others may come too: only the pairs asked for are used)."""
        if self._read_as_stored:
            kept = self._kept_members(connection)
            found: list[tuple[Any, ...]] = []
            wanted: list[tuple[int, str]] = []
            for pair in pairs:
                member = kept.get(pair)
                if member is None:
                    wanted.append(pair)
                else:
                    found.append((*pair, *member))
            if not wanted:
                return found
            sql = _MEMBERS_SQL.format(pairs=", ".join(["(?, ?)"] * len(wanted)))
            for group_id, user, role, name, hamlet in driver_rows(
                    connection, sql, [value for pair in wanted for value in pair]):
                member = (_ROLE_STORED[role], name, hamlet)
                found.append((group_id, user, *member))
                if self._members_as_of is not None:
                    kept[(group_id, user)] = member
            return found
        return [tuple(row) for row in connection.execute(_MEMBERS_OF_USERS, {
            "groups": sorted({group for group, _user in pairs}),
            "users": sorted({user for _group, user in pairs})})]

    def _kept_members(self, connection: Connection
                      ) -> dict[tuple[int, str], tuple[Role, str, str | None]]:
        """The members kept, still as stored: forgotten when any member or 屋场 changed since
        they were read (or there are too many)."""
        counted = driver_rows(connection, _MEMBER_CHANGES_SQL, [])
        as_of = counted[0][0] if counted else None
        if as_of != self._members_as_of or len(self._members) > MEMBERS_KEPT:
            self._members = {}
            self._members_as_of = as_of
        return self._members

    def _group(self, values: tuple[Any, ...]) -> Group:
        group_id = values[_GROUP_ID]
        known = self._groups.get(group_id)
        if known is not None and known[0] == values:
            return known[1]
        values_read: tuple[Any, ...] = values
        if self._read_as_stored:  # as stored: read as SQLAlchemy reads them
            values_read = tuple(value if read is None or value is None else read(value)
                                for value, read in zip(values, self._group_readers, strict=True))
        group = Group(**dict(zip(_GROUP_COLUMNS, values_read, strict=True)))
        self._groups[group_id] = (values, group)
        return group

    def remember(self, group_id: int, user_id: str, name: str, *, new: bool = False
                 ) -> asyncio.Future[Any]:
        """Store a `new` member or their new display name: done once committed. Not waited for
        here, so what the member's message itself writes joins the same batch."""
        done = self.writes.enqueue(Seen(group_id, user_id, name))
        if new and self._members_as_of is not None:
            done.add_done_callback(partial(self._kept_new, (group_id, user_id), name,
                                           self._members_as_of))
        return done

    def _kept_new(self, key: tuple[int, str], name: str, as_of: int | None,
                  written: asyncio.Future[Any]) -> None:
        """Keep a new member once stored: as a member, in no 屋场. Only while nothing was
        counted since they were found missing: had another process stored them meanwhile,
        the row kept theirs and the count moved."""
        if (not written.cancelled() and written.exception() is None
                and as_of == self._members_as_of):
            self._members[key] = (Role.MEMBER, name, None)

    async def reply(self, row: dict[str, Any]) -> None:
        """Store an answer to a chat message (`reply_row`); committed when this returns."""
        await self.writes.submit(Answer(row))

    async def suggestion(self, raised: Raised) -> tuple[int, bool]:
        """Store a suggestion and its points; (number, created) once committed."""
        number, created = await self.writes.submit(raised)
        if created:
            self.stored.add()
        return number, created

    def _commits(self) -> str:
        """How many transactions the inbound writes since the last count took."""
        commits, self._commits_seen = (self.writes.batches - self._commits_seen,
                                       self.writes.batches)
        return f"in {commits} commits"

    def close(self) -> None:
        """Log the counts not yet logged (on shutdown); what is still written from now on
        goes through the database threads."""
        self.stored.flush()
        self.unserved.flush()
        if self._loop is not None:
            self._loop.close()
