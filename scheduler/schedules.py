"""Schedules: when a lesson is due for which groups, one-off or on a crontab rule."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from scheduler.dbtypes import utcnow
from scheduler.models import Schedule, ScheduleKind, ScheduleTarget

log = logging.getLogger(__name__)

# User-facing texts, kept together for review.
BAD_RULE = '定时规则 "{expr}" 无法识别：{reason}'
BAD_FIELD_COUNT = "应为 5 段（分 时 日 月 周），实际 {count} 段"
BAD_FIELD = "第 {index} 段（{name}）的值 “{value}” 不合法"
NEVER_FIRES = "按这个规则永远不会发送"
BAD_TIMEZONE = '时区 "{name}" 无法识别'
NEED_ONE_RULE = "请给出发送时间或定时规则，二者只能选一个"
NAIVE_TIME = "发送时间 {when} 缺少时区"
PAST_TIME = "发送时间 {when} 已经过去，请重新设置"
NO_TARGETS = "没有指定要发送的群"
NO_LESSON = "没有指定课程"
NO_SCHEDULE = "找不到编号为 {id} 的定时发送"

FIELD_NAMES = ("minute", "hour", "day", "month", "day_of_week")
FIELD_NAMES_ZH = ("分", "时", "日", "月", "周")
# Crontab counts weekdays from Sunday = 0 (7 too); APScheduler 3 from Monday = 0, so weekdays
# are handed over by name.
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
PAST_TOLERANCE = timedelta(minutes=1)
ONE_MICROSECOND = timedelta(microseconds=1)


class ScheduleError(ValueError):
    """A schedule request that cannot be carried out; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as lists and pages show it."""

    id: int
    lesson_slug: str
    kind: ScheduleKind
    rule: str
    group_ids: tuple[int, ...]
    next_due: datetime | None
    cancelled: bool


def zone(name: str) -> tzinfo:
    """The time zone called `name`, or ScheduleError."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ScheduleError(BAD_TIMEZONE.format(name=name)) from exc


class _BadField(ValueError):
    def __init__(self, index: int, value: str) -> None:
        super().__init__(value)
        self.index = index
        self.value = value


def _weekday(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token.lower() in WEEKDAYS:
        return WEEKDAYS.index(token.lower())
    raise ValueError(token)


def _crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field as APScheduler 3 weekday names."""
    if field == "*":
        return field
    days: set[int] = set()
    try:
        for part in field.split(","):
            span, slash, step_text = part.partition("/")
            step = int(step_text) if slash else 1
            if span == "*":
                low, high = 0, 6
            elif "-" in span:
                first, last = span.split("-", 1)
                low, high = _weekday(first), _weekday(last)
            else:
                low = _weekday(span)
                high = 6 if slash else low
            if step < 1 or low > high:
                raise ValueError(part)
            days.update(day % 7 for day in range(low, high + 1, step))
    except ValueError as exc:
        raise _BadField(4, field) from exc
    return ",".join(WEEKDAYS[day] for day in sorted(days))


@lru_cache(maxsize=1024)
def _trigger(expr: str, timezone: str) -> CronTrigger:
    values = expr.split()
    if len(values) != len(FIELD_NAMES):
        raise ValueError(BAD_FIELD_COUNT.format(count=len(values)))
    values[4] = _crontab_weekdays(values[4])
    fields = dict(zip(FIELD_NAMES, values, strict=True))
    try:
        return CronTrigger(**fields, timezone=zone(timezone))
    except ValueError:
        for index, name in enumerate(FIELD_NAMES):
            try:
                CronTrigger(**{name: fields[name]}, timezone=zone(timezone))
            except ValueError as exc:
                raise _BadField(index, expr.split()[index]) from exc
        raise


def parse_cron(expr: str, timezone: str) -> CronTrigger:
    """A 5-field crontab rule (minute hour day month weekday) in `timezone`."""
    zone(timezone)
    try:
        return _trigger(" ".join(expr.split()), timezone)
    except _BadField as exc:
        name = FIELD_NAMES_ZH[exc.index]
        reason = BAD_FIELD.format(index=exc.index + 1, name=name, value=exc.value)
        raise ScheduleError(BAD_RULE.format(expr=expr, reason=reason)) from exc
    except ValueError as exc:
        raise ScheduleError(BAD_RULE.format(expr=expr, reason=exc)) from exc


def next_occurrence(schedule: Schedule, timezone: str, after: datetime) -> datetime | None:
    """The first occurrence strictly after `after` (aware UTC), or None when there is none."""
    if schedule.kind == ScheduleKind.ONCE:
        return schedule.run_at if schedule.run_at and schedule.run_at > after else None
    trigger = parse_cron(schedule.cron or "", timezone)
    # Cron times are whole seconds and the trigger rounds up, so this is strictly after.
    fire: datetime | None = trigger.get_next_fire_time(None, after + ONE_MICROSECOND)
    return fire.astimezone(UTC) if fire else None


def _first_at_or_after(schedule: Schedule, timezone: str, now: datetime) -> datetime | None:
    return next_occurrence(schedule, timezone, now - ONE_MICROSECOND)


def move_group_zone(db: Session, group_id: int, timezone: str,
                    now: datetime | None = None) -> int:
    """A group moved to another time zone: its recurring lessons follow the new local clock.

    One-off posts keep their instant; each live recurring target gets the zone and its next
    occurrence at or after `now` recomputed. Returns how many targets changed.
    """
    now = now or utcnow()
    zone(timezone)
    rows = db.exec(select(ScheduleTarget, Schedule)
                   .join(Schedule, col(Schedule.id) == col(ScheduleTarget.schedule_id))
                   .where(ScheduleTarget.group_id == group_id,
                          col(Schedule.cancelled_at).is_(None))).all()
    changed = 0
    for target, schedule in rows:
        if target.timezone == timezone:
            continue
        target.timezone = timezone
        if schedule.kind == ScheduleKind.CRON and target.next_due is not None:
            target.next_due = _first_at_or_after(schedule, timezone, now)
        db.add(target)
        changed += 1
    db.flush()
    return changed


def _local(when: datetime, timezone: str) -> str:
    return when.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")


def add_schedule(
    db: Session,
    lesson_slug: str,
    targets: Sequence[tuple[int, str]],
    *,
    run_at: datetime | None = None,
    cron: str | None = None,
    now: datetime | None = None,
) -> Schedule:
    """Schedule a lesson once (`run_at`) or on a crontab rule (`cron`) for (group, zone) pairs."""
    now = now or utcnow()
    if not lesson_slug.strip():
        raise ScheduleError(NO_LESSON)
    if (run_at is None) == (cron is None):
        raise ScheduleError(NEED_ONE_RULE)
    if not targets:
        raise ScheduleError(NO_TARGETS)
    unique: dict[int, str] = {}
    for group_id, timezone in targets:
        zone(timezone)
        unique.setdefault(group_id, timezone)
    first_zone = next(iter(unique.values()))
    if run_at is not None:
        if run_at.tzinfo is None:
            raise ScheduleError(NAIVE_TIME.format(when=run_at.isoformat(sep=" ")))
        if run_at < now - PAST_TOLERANCE:
            raise ScheduleError(PAST_TIME.format(when=_local(run_at, first_zone)))
        run_at = run_at.astimezone(UTC)
        schedule = Schedule(lesson_slug=lesson_slug, kind=ScheduleKind.ONCE, run_at=run_at)
    else:
        rule = " ".join((cron or "").split())
        schedule = Schedule(lesson_slug=lesson_slug, kind=ScheduleKind.CRON, cron=rule)
    dues: dict[int, datetime | None] = {}
    for group_id, timezone in unique.items():
        # A one-off set a few seconds ago is still posted, at once.
        dues[group_id] = run_at or _first_at_or_after(schedule, timezone, now)
        if dues[group_id] is None:
            raise ScheduleError(BAD_RULE.format(expr=cron, reason=NEVER_FIRES))
    db.add(schedule)
    db.flush()
    assert schedule.id is not None
    for group_id, timezone in unique.items():
        db.add(
            ScheduleTarget(
                schedule_id=schedule.id,
                group_id=group_id,
                timezone=timezone,
                next_due=dues[group_id],
            )
        )
    db.flush()
    log.info("schedule %s added: %s for %d group(s)", schedule.id, lesson_slug, len(unique))
    return schedule


def cancel_schedule(db: Session, schedule_id: int, now: datetime | None = None) -> Schedule:
    """Cancel a schedule: nothing more of it will be posted."""
    schedule = db.get(Schedule, schedule_id)
    if schedule is None:
        raise ScheduleError(NO_SCHEDULE.format(id=schedule_id))
    if schedule.cancelled_at is None:
        schedule.cancelled_at = now or utcnow()
        db.add(schedule)
    for target in db.exec(select(ScheduleTarget).where(ScheduleTarget.schedule_id == schedule_id)):
        target.next_due = None
        db.add(target)
    db.flush()
    log.info("schedule %s cancelled", schedule_id)
    return schedule


def list_schedules(db: Session, include_cancelled: bool = False) -> list[ScheduleView]:
    """Schedules with their rule, groups and next due time, oldest first."""
    query = select(Schedule).order_by(col(Schedule.id))
    if not include_cancelled:
        query = query.where(col(Schedule.cancelled_at).is_(None))
    schedules = list(db.exec(query))
    ids = [schedule.id for schedule in schedules]
    targets: dict[int, list[ScheduleTarget]] = {}
    if ids:
        rows = db.exec(
            select(ScheduleTarget)
            .where(col(ScheduleTarget.schedule_id).in_(ids))
            .order_by(col(ScheduleTarget.id))
        )
        for target in rows:
            targets.setdefault(target.schedule_id, []).append(target)
    views = []
    for schedule in schedules:
        assert schedule.id is not None
        mine = targets.get(schedule.id, [])
        dues = [target.next_due for target in mine if target.next_due is not None]
        rule = schedule.cron or (schedule.run_at.isoformat() if schedule.run_at else "")
        views.append(
            ScheduleView(
                id=schedule.id,
                lesson_slug=schedule.lesson_slug,
                kind=schedule.kind,
                rule=rule,
                group_ids=tuple(target.group_id for target in mine),
                next_due=min(dues) if dues else None,
                cancelled=schedule.cancelled_at is not None,
            )
        )
    return views


def _live_due(until: datetime) -> list[ColumnElement[bool]]:
    return [
        col(ScheduleTarget.next_due).is_not(None),
        col(ScheduleTarget.next_due) <= until,
        col(Schedule.cancelled_at).is_(None),
    ]


def due_targets(db: Session, until: datetime) -> list[tuple[ScheduleTarget, Schedule]]:
    """Targets of live schedules whose next occurrence is at or before `until`, soonest first."""
    query = (
        select(ScheduleTarget, Schedule)
        .join(Schedule, col(Schedule.id) == col(ScheduleTarget.schedule_id))
        .where(*_live_due(until))
        .order_by(col(ScheduleTarget.next_due), col(ScheduleTarget.id))
    )
    return [(target, schedule) for target, schedule in db.exec(query)]


def earliest_due(db: Session) -> datetime | None:
    """The soonest next occurrence of any live schedule, or None when nothing is scheduled."""
    query = (
        select(ScheduleTarget.next_due)
        .join(Schedule, col(Schedule.id) == col(ScheduleTarget.schedule_id))
        .where(col(ScheduleTarget.next_due).is_not(None), col(Schedule.cancelled_at).is_(None))
        .order_by(col(ScheduleTarget.next_due))
        .limit(1)
    )
    return db.exec(query).first()


def lessons_due(db: Session, until: datetime) -> list[str]:
    """Slugs of the lessons some live schedule posts at or before `until`, each once."""
    query = (
        select(Schedule.lesson_slug)
        .join(ScheduleTarget, col(Schedule.id) == col(ScheduleTarget.schedule_id))
        .where(*_live_due(until))
        .distinct()
        .order_by(col(Schedule.lesson_slug))
    )
    return list(db.exec(query))
