"""Listening tallies: now and then one line to the group about a lesson's listeners, instead of
one message per 「已听」.

Each listen arms the lesson's next tally timer unless one is armed; the timer's handler counts
the distinct listeners and tells the group when the count grew. What the group was last told is
stored (`ListenTally`), so a restart neither repeats a tally nor posts two within the interval.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, LessonRecord, ListenTally, PointsEntry
from bot.domain.points import LISTEN
from bot.outbox import Outbox
from scheduler.dbtypes import ignoring_insert, utcnow
from scheduler.models import Delivery, Timer
from scheduler.timers import AlwaysDue, TimerStatus, add_timer, get_timer

log = logging.getLogger(__name__)

TALLY_KIND = "listen.tally"
TALLY_INTERVAL = timedelta(minutes=30)  # at most one tally per lesson in this long
GATHER = timedelta(minutes=5)  # listens that come together make one tally
ARMED = (TimerStatus.PENDING.value, TimerStatus.RUNNING.value)


def tally_ref(delivery_id: int, round_: int) -> str:
    """The timer ref of one delivery's `round_`-th tally: `delivery:12:3`."""
    return f"delivery:{delivery_id}:{round_}"


def parse_tally_ref(ref: str) -> tuple[int, int]:
    """`delivery:12:3` -> (12, 3); ValueError if it is not such a ref."""
    kind, delivery_id, round_ = ref.split(":")
    if kind != "delivery":
        raise ValueError(ref)
    return int(delivery_id), int(round_)


def _tally(db: Session, group_id: int, delivery_id: int) -> ListenTally:
    """The delivery's tally row, created if absent (a racing listener's insert is waited for)."""
    table = ListenTally.__table__  # type: ignore[attr-defined]
    statement = ignoring_insert(table, ("delivery_id",), db.get_bind().dialect.name,
                                returning=())
    db.execute(statement, {"delivery_id": delivery_id, "group_id": group_id, "told_count": 0,
                           "rounds": 0})
    tally = db.exec(select(ListenTally).where(ListenTally.delivery_id == delivery_id)
                    .execution_options(populate_existing=True)).one()
    return tally


def note_listen(db: Session, group_id: int, delivery_id: int, now: datetime,
                interval: timedelta = TALLY_INTERVAL) -> bool:
    """Arm the delivery's next tally (in the listen's own transaction) unless one is armed;
    True when a timer was armed (the scheduler's alarm may need setting earlier)."""
    tally = _tally(db, group_id, delivery_id)
    timer = get_timer(db, TALLY_KIND, tally_ref(delivery_id, tally.rounds + 1))
    if timer is not None and timer.status in ARMED:
        return False
    if timer is not None:  # that round is over (fired while its handler saw nothing new)
        tally.rounds += 1
        db.add(tally)
    due = now + GATHER
    if tally.told_at is not None:
        due = max(due, tally.told_at + interval)
    add_timer(db, TALLY_KIND, tally_ref(delivery_id, tally.rounds + 1), due)
    return True


def listeners(db: Session, group_id: int, delivery_id: int) -> int:
    """How many people said they listened to the delivery."""
    query = select(func.count(func.distinct(PointsEntry.user_id))).where(
        PointsEntry.group_id == group_id, PointsEntry.reason == LISTEN,
        PointsEntry.ref == str(delivery_id))
    return int(db.exec(query).one())


def tally_text(db: Session, group: Group, delivery: Delivery, count: int, now: datetime) -> str:
    """「今天已有 37 位乡亲听完《…》」, or without 今天 for a lesson posted on an earlier day."""
    record = db.exec(select(LessonRecord).where(
        col(LessonRecord.slug) == delivery.lesson_slug)).first()
    title = record.title if record is not None else delivery.lesson_slug
    zone = ZoneInfo(group.timezone)
    sent = delivery.sent_at or delivery.occurrence
    today = sent.astimezone(zone).date() == now.astimezone(zone).date()
    template = texts.QUIET_TALLY_TODAY if today else texts.QUIET_TALLY
    return template.format(count=count, title=title)


class ListenTallies:
    """Posts each lesson's listening tally to its group when the tally's timer fires."""

    def __init__(self, engine: Engine, outbox: Outbox, *,
                 interval: timedelta = TALLY_INTERVAL) -> None:
        self.engine = engine
        self.outbox = outbox
        self.interval = interval

    def handlers(self) -> dict[str, Callable[[Timer], Awaitable[None]]]:
        """Timer kinds this handles, for `Scheduler(timer_handlers=...)`."""
        # A tally found late (after a restart) still says something true: post it then.
        return {TALLY_KIND: AlwaysDue(self.post)}

    async def post(self, timer: Timer) -> None:
        """Count the listeners and tell the group, if there are more than it was last told."""
        delivery_id, round_ = parse_tally_ref(timer.ref)
        now = timer.fired_at or utcnow()
        found = await in_session(self.engine, self._take, delivery_id, round_, now)
        if found is None:
            return
        group, message = found
        await self.outbox.send(group.platform, group.chat_id, [message])

    def _take(self, db: Session, delivery_id: int, round_: int, now: datetime
              ) -> tuple[Group, OutgoingText] | None:
        """Record the tally as told (before it is sent: a crash must not tell it twice)."""
        tally = db.get(ListenTally, delivery_id)
        if tally is None or tally.rounds >= round_:
            return None  # this round was handled already
        tally.rounds = round_
        db.add(tally)
        if tally.told_at is not None and now < tally.told_at + self.interval:
            # Found early (two rounds due together after a restart): wait out the interval.
            add_timer(db, TALLY_KIND, tally_ref(delivery_id, round_ + 1),
                      tally.told_at + self.interval)
            return None
        group, delivery = db.get(Group, tally.group_id), db.get(Delivery, delivery_id)
        if group is None or delivery is None:
            return None
        count = listeners(db, tally.group_id, delivery_id)
        if count <= tally.told_count:
            return None
        tally.told_count, tally.told_at = count, now
        log.info("group %s: %d listened to delivery %s", group.id, count, delivery_id)
        return group, OutgoingText(tally_text(db, group, delivery, count, now))
