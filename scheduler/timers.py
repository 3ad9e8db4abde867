"""Timers: one-off alarms kept in the database (night-talk steps, leaderboards), fired once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Table, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scheduler.dbtypes import insert_rows
from scheduler.models import Timer

log = logging.getLogger(__name__)

_TIMERS: Table = Timer.__table__  # type: ignore[attr-defined]

ERROR_LIMIT = 2000
MISSED = "due at {due}, found at {now}: later than the {minutes} min grace window"
INTERRUPTED = "interrupted by a restart and claimed more than {minutes} min ago"


class TimerStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"  # claimed, handler not finished: handed over again after a crash
    FIRED = "fired"
    MISSED = "missed"  # due while the bot was down, outside the grace window
    CANCELLED = "cancelled"


REVIVABLE = (TimerStatus.PENDING, TimerStatus.CANCELLED)

TimerHandler = Callable[[Timer], Awaitable[None]]
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class AlwaysDue:
    """A timer handler that runs however late its timer is found (closing a meeting, say)."""

    handler: TimerHandler

    async def __call__(self, timer: Timer) -> None:
        await self.handler(timer)


def _revivable() -> ColumnElement[bool]:
    return col(Timer.status).in_([status.value for status in REVIVABLE])


def _upsert(db: Session, values: dict[str, Any], update_values: dict[str, Any] | None) -> bool:
    """Insert a timer row; on (kind, ref) conflict update a revivable one. True if written."""
    dialect = db.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        # One atomic statement on both, like the delivery ledger: racing writers serialize.
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        statement = insert(Timer).values(**values)
        if update_values is None:
            statement = statement.on_conflict_do_nothing(index_elements=["kind", "ref"])
        else:
            statement = statement.on_conflict_do_update(
                index_elements=["kind", "ref"], set_=update_values, where=_revivable())
        return bool(db.exec(statement.returning(col(Timer.id))).scalar_one_or_none())
    try:
        with db.begin_nested():
            db.add(Timer(**values))
        return True
    except IntegrityError:
        if update_values is None:
            return False
        done = db.exec(update(Timer).where(col(Timer.kind) == values["kind"],
                                           col(Timer.ref) == values["ref"], _revivable())
                       .values(**update_values))
        return bool(done.rowcount)


def get_timer(db: Session, kind: str, ref: str) -> Timer | None:
    """The timer (kind, ref), fresh from the database, or None."""
    return db.exec(select(Timer).where(Timer.kind == kind, Timer.ref == ref)
                   .execution_options(populate_existing=True)).first()


def add_timer(db: Session, kind: str, ref: str, due_at: datetime) -> Timer:
    """Set timer (kind, ref) for `due_at`; a pending or cancelled one is moved, a fired one kept.

    A timer fires at most once: adding one that already fired or was missed changes nothing.
    """
    if due_at.tzinfo is None:
        raise ValueError("timers take aware datetimes")
    fresh = {"status": TimerStatus.PENDING.value, "due_at": due_at, "fired_at": None,
             "error": None}
    _upsert(db, {"kind": kind, "ref": ref, **fresh}, fresh)
    timer = get_timer(db, kind, ref)
    assert timer is not None
    log.debug("timer %s %s due at %s (%s)", kind, ref, due_at.isoformat(), timer.status)
    return timer


# Refs asked about in one query (SQLite's limit on bound values is far above it).
_REFS_AT_ONCE = 500


def ensure_timers(db: Session, kind: str, wanted: Mapping[str, datetime]) -> int:
    """Add the timers of `kind` in `wanted` (ref -> due) that do not exist in any state — one
    that fired is never armed again; how many were added. At start-up, for every group at
    once: a query per few hundred refs and one insert, not two statements a timer."""
    if any(due.tzinfo is None for due in wanted.values()):
        raise ValueError("timers take aware datetimes")
    refs = list(wanted)
    existing: set[str] = set()
    for start in range(0, len(refs), _REFS_AT_ONCE):
        existing.update(db.exec(select(Timer.ref).where(
            Timer.kind == kind, col(Timer.ref).in_(refs[start:start + _REFS_AT_ONCE]))))
    rows = [{"kind": kind, "ref": ref, "due_at": due, "status": TimerStatus.PENDING.value,
             "fired_at": None, "error": None}
            for ref, due in wanted.items() if ref not in existing]
    insert_rows(db.connection(), _TIMERS, ("kind", "ref"), rows)
    return len(rows)


def _ref_matches(ref_prefix: str) -> ColumnElement[bool]:
    # "nighttalk:5" must not reach "nighttalk:50": a prefix without a trailing ":" means the
    # ref itself or the ref followed by ":…".
    escaped = ref_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if ref_prefix.endswith(":"):
        return col(Timer.ref).like(f"{escaped}%", escape="\\")
    return or_(col(Timer.ref) == ref_prefix, col(Timer.ref).like(f"{escaped}:%", escape="\\"))


def cancel_timers(db: Session, ref_prefix: str) -> int:
    """Cancel the pending timers whose ref is `ref_prefix` (or under it, `prefix:…`); a count."""
    done = db.exec(update(Timer).where(_ref_matches(ref_prefix),
                                       col(Timer.status) == TimerStatus.PENDING.value)
                   .values(status=TimerStatus.CANCELLED.value))
    count = int(done.rowcount)
    if count:
        log.info("%d timer(s) for %s cancelled", count, ref_prefix)
    return count


def cancel_timer(db: Session, kind: str, ref: str) -> bool:
    """Cancel the timer (kind, ref) if it is still pending."""
    done = db.exec(update(Timer).where(col(Timer.kind) == kind, col(Timer.ref) == ref,
                                       col(Timer.status) == TimerStatus.PENDING.value)
                   .values(status=TimerStatus.CANCELLED.value))
    return bool(done.rowcount)


def timers_for(db: Session, ref_prefix: str) -> list[Timer]:
    """Every timer for `ref_prefix` (as cancel_timers matches it), soonest first."""
    query = select(Timer).where(_ref_matches(ref_prefix)).order_by(col(Timer.due_at),
                                                                   col(Timer.id))
    return list(db.exec(query.execution_options(populate_existing=True)))


def _of_kinds(kinds: Collection[str] | None) -> list[ColumnElement[bool]]:
    return [] if kinds is None else [col(Timer.kind).in_(list(kinds))]


def due_timers(db: Session, until: datetime, kinds: Collection[str] | None = None
               ) -> list[Timer]:
    """Pending timers due at or before `until` (of `kinds`, if given), soonest first."""
    query = (select(Timer)
             .where(col(Timer.status) == TimerStatus.PENDING.value, col(Timer.due_at) <= until,
                    *_of_kinds(kinds))
             .order_by(col(Timer.due_at), col(Timer.id)))
    return list(db.exec(query))


def next_timer_due(db: Session, kinds: Collection[str] | None = None) -> datetime | None:
    """When the soonest pending timer (of `kinds`, if given) is due, or None."""
    query = (select(Timer.due_at)
             .where(col(Timer.status) == TimerStatus.PENDING.value, *_of_kinds(kinds))
             .order_by(col(Timer.due_at)).limit(1))
    return db.exec(query).first()


def running_timers(db: Session, kinds: Collection[str] | None = None) -> list[Timer]:
    """Timers claimed but never finished (the bot stopped mid-way), oldest claim first."""
    query = (select(Timer)
             .where(col(Timer.status) == TimerStatus.RUNNING.value, *_of_kinds(kinds))
             .order_by(col(Timer.fired_at), col(Timer.id)))
    return list(db.exec(query))


def claim_timer(db: Session, timer_id: int, now: datetime) -> bool:
    """Claim a pending timer for running (atomic pending -> running); False if another did."""
    done = db.exec(update(Timer).where(col(Timer.id) == timer_id,
                                       col(Timer.status) == TimerStatus.PENDING.value)
                   .values(status=TimerStatus.RUNNING.value, fired_at=now))
    return bool(done.rowcount)


def take_timer(db: Session, kind: str, ref: str, now: datetime) -> Timer | None:
    """Claim (kind, ref) now, by hand: pending, cancelled or absent -> running; else None.

    This is how a step done on command (closing a night talk early) stays done once: whoever
    takes the timer runs the step, and the alarm finds nothing left to fire.
    """
    running = {"status": TimerStatus.RUNNING.value, "fired_at": now, "error": None}
    if not _upsert(db, {"kind": kind, "ref": ref, "due_at": now, **running}, running):
        return None
    return get_timer(db, kind, ref)


def finish_timer(db: Session, timer_id: int, error: str | None = None) -> None:
    """Mark a claimed timer fired, with the handler's error if it failed."""
    db.exec(update(Timer).where(col(Timer.id) == timer_id)
            .values(status=TimerStatus.FIRED.value,
                    error=error[:ERROR_LIMIT] if error else None))


def miss_timer(db: Session, timer_id: int, reason: str, *,
               status: TimerStatus = TimerStatus.PENDING) -> bool:
    """Mark a timer (in `status`) missed with the reason; False if it was no longer there."""
    done = db.exec(update(Timer).where(col(Timer.id) == timer_id,
                                       col(Timer.status) == status.value)
                   .values(status=TimerStatus.MISSED.value, error=reason[:ERROR_LIMIT]))
    return bool(done.rowcount)


class OffLoop:
    """Runs blocking database work in an executor's threads (None: the loop's default ones)."""

    def __init__(self, executor: Executor | None) -> None:
        self.executor = executor

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))


class TimerRunner:
    """Fires due timers for the Scheduler: claims each once, runs its handler, records the end."""

    def __init__(self, session: Callable[[], Session], handlers: Mapping[str, TimerHandler],
                 grace: timedelta, *, off_loop: OffLoop | None = None) -> None:
        self._session = session
        self._off_loop = off_loop or OffLoop(None)
        self.handlers = dict(handlers)
        self._grace = grace

    def next_due(self, db: Session) -> datetime | None:
        """When the soonest timer this runner handles is due, or None."""
        return next_timer_due(db, self.handlers) if self.handlers else None

    def _always_due(self, kind: str) -> bool:
        return isinstance(self.handlers.get(kind), AlwaysDue)

    def _minutes(self) -> int:
        return int(self._grace.total_seconds() // 60)

    async def fire(self, now: datetime) -> list[Timer]:
        """Claim the timers due by `now` (late within grace, else missed) and run them."""
        if not self.handlers:
            return []
        claimed = await self._off_loop(self._claim_due, now)
        for timer in claimed:
            await self._run(timer)
        return claimed

    def _claim_due(self, now: datetime) -> list[Timer]:
        claimed: list[Timer] = []
        with self._session() as db:
            for timer in due_timers(db, now, self.handlers):
                assert timer.id is not None
                if now - timer.due_at > self._grace and not self._always_due(timer.kind):
                    reason = MISSED.format(due=timer.due_at.isoformat(), now=now.isoformat(),
                                           minutes=self._minutes())
                    if miss_timer(db, timer.id, reason):
                        log.warning("timer %s %s missed: %s", timer.kind, timer.ref, reason)
                elif claim_timer(db, timer.id, now):
                    timer.status, timer.fired_at = TimerStatus.RUNNING.value, now
                    claimed.append(timer)
            # Claims commit before any handler runs, so a racing scheduler cannot run them too.
            db.commit()
        return claimed

    async def _run(self, timer: Timer) -> None:
        timer_id = timer.id
        assert timer_id is not None
        error = None
        try:
            await self.handlers[timer.kind](timer)
        except Exception as exc:  # the scheduler is an error boundary: one timer, not all
            log.exception("timer %s %s failed", timer.kind, timer.ref)
            error = f"{type(exc).__name__}: {exc}"

        def finish() -> None:
            with self._session() as db:
                finish_timer(db, timer_id, error)
                db.commit()

        await self._off_loop(finish)

    async def resume(self, now: datetime) -> list[Timer]:
        """Run again the timers claimed before a crash; those older than grace become missed."""
        if not self.handlers:
            return []
        resumed = await self._off_loop(self._interrupted, now)
        for timer in resumed:
            log.info("resuming timer %s %s", timer.kind, timer.ref)
            await self._run(timer)
        return resumed

    def _interrupted(self, now: datetime) -> list[Timer]:
        resume = []
        with self._session() as db:
            for timer in running_timers(db, self.handlers):
                assert timer.id is not None
                claimed_at = timer.fired_at or timer.due_at
                if now - claimed_at <= self._grace or self._always_due(timer.kind):
                    resume.append(timer)
                elif miss_timer(db, timer.id, INTERRUPTED.format(minutes=self._minutes()),
                                status=TimerStatus.RUNNING):
                    log.warning("timer %s %s was interrupted too long ago; missed",
                                timer.kind, timer.ref)
            db.commit()
        return resume
