"""The calendar: what each group is due to get, what was sent, and a retry for what failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlmodel import Session, col, select

from bot import texts
from bot.admin.core import (
    Viewer,
    console_of,
    field_text,
    form,
    page,
    redirect,
    render,
    whole_number,
)
from bot.core.db import in_session
from bot.core.models import Group, LessonRecord, Role
from scheduler import ledger
from scheduler.models import Delivery, DeliveryStatus, ScheduleKind
from scheduler.schedules import ScheduleError, cancel_schedule, due_targets, next_occurrence

AHEAD = timedelta(days=14)
PER_TARGET = 20  # occurrences of one repeating schedule shown ahead
HISTORY = 100
WEEKDAYS = "日一二三四五六"


@dataclass(frozen=True)
class Upcoming:
    """One post due in the coming days."""

    when: datetime
    group: Group
    title: str
    schedule_id: int
    rule: str


@dataclass(frozen=True)
class Sent:
    """One row of the delivery ledger as the page shows it."""

    delivery: Delivery
    group: Group | None
    title: str

    @property
    def retryable(self) -> bool:
        """Failed and missed posts can be sent again."""
        return self.delivery.status in ledger.RETRYABLE


def describe_rule(kind: ScheduleKind, cron: str | None) -> str:
    """A schedule's rule in plain words: 只发一次, 每天 20:00, 每周五 20:00."""
    if kind == ScheduleKind.ONCE:
        return texts.ADMIN_RULE_ONCE
    fields = (cron or "").split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and \
            fields[2] == fields[3] == "*":
        clock = f"{int(fields[1]):02d}:{int(fields[0]):02d}"
        if fields[4] == "*":
            return texts.ADMIN_RULE_DAILY.format(clock=clock)
        if fields[4].isdigit() and int(fields[4]) <= 7:
            return texts.ADMIN_RULE_WEEKLY.format(day=WEEKDAYS[int(fields[4]) % 7], clock=clock)
    return texts.ADMIN_RULE_CRON.format(rule=cron or "")


def _titles(db: Session) -> dict[str, str]:
    return {r.slug: r.title for r in db.exec(select(LessonRecord))}


def upcoming(db: Session, now: datetime, group_id: int | None) -> list[Upcoming]:
    """Every post due from now to AHEAD, soonest first, optionally for one group."""
    groups = {g.id: g for g in db.exec(select(Group))}
    titles = _titles(db)
    found: list[Upcoming] = []
    for target, schedule in due_targets(db, now + AHEAD):
        group = groups.get(target.group_id)
        if group is None or (group_id is not None and target.group_id != group_id):
            continue
        assert schedule.id is not None
        rule = describe_rule(schedule.kind, schedule.cron)
        occurrence, shown = target.next_due, 0
        while occurrence is not None and occurrence <= now + AHEAD and shown < PER_TARGET:
            found.append(Upcoming(occurrence, group, titles.get(schedule.lesson_slug,
                                                                schedule.lesson_slug),
                                  schedule.id, rule))
            shown += 1
            try:
                occurrence = next_occurrence(schedule, target.timezone, occurrence)
            except ScheduleError:
                break
    found.sort(key=lambda u: (u.when, u.group.name))
    return found


def history(db: Session, group_id: int | None, status: DeliveryStatus | None) -> list[Sent]:
    """The latest deliveries, newest first."""
    groups = {g.id: g for g in db.exec(select(Group))}
    titles = _titles(db)
    rows = ledger.deliveries(db, group_id=group_id, status=status, limit=HISTORY)
    return [Sent(row, groups.get(row.group_id), titles.get(row.lesson_slug, row.lesson_slug))
            for row in rows]


def _status(value: str | None) -> DeliveryStatus | None:
    try:
        return DeliveryStatus(value) if value else None
    except ValueError:
        return None


@page(Role.FACILITATOR)
async def calendar(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """What is due per group and how each post went; ?group=<id>&status=<status> filter it."""
    console = console_of(request)
    group_id = whole_number(request.query.get("group"))
    status = _status(request.query.get("status"))
    groups, due, sent = await in_session(console.services.engine, lambda db: (
        list(db.exec(select(Group).order_by(col(Group.name)))),
        upcoming(db, console.services.clock(), group_id), history(db, group_id, status)))
    return render(request, viewer, "admin/calendar.html", groups=groups, group_id=group_id,
                  status_filter=status.value if status else "", due=due, sent=sent,
                  statuses=texts.ADMIN_DELIVERY_STATUS, back=request.path_qs,
                  refresh=any(s.delivery.status == DeliveryStatus.CLAIMED for s in sent))


def _back(value: str) -> str:
    """Where a button's form came from (a console page), to return there."""
    return value if value.startswith("/admin/") else "/admin/calendar"


@page(Role.FACILITATOR)
async def retry(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Send a failed or missed post again (the 重试 button)."""
    console = console_of(request)
    back = _back(field_text(await form(request), "back"))
    delivery_id = whole_number(request.match_info["id"])
    if delivery_id is None:
        raise web.HTTPNotFound()
    try:
        await console.services.scheduler.retry_delivery(delivery_id)
    except ScheduleError as exc:
        raise redirect(back, str(exc), error=True) from exc
    raise redirect(back, texts.ADMIN_RETRY_STARTED)


@page(Role.FACILITATOR)
async def cancel(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Cancel a schedule: nothing more of it is posted."""
    console = console_of(request)
    back = _back(field_text(await form(request), "back"))
    schedule_id = whole_number(request.match_info["id"])
    if schedule_id is None:
        raise web.HTTPNotFound()
    try:
        await in_session(console.services.engine, cancel_schedule, schedule_id,
                         now=console.services.clock())
    except ScheduleError as exc:
        raise redirect(back, str(exc), error=True) from exc
    await console.services.scheduler.rearm()
    raise redirect(back, texts.ADMIN_SCHEDULE_CANCELLED)


def routes(router: web.UrlDispatcher) -> None:
    """Register the calendar pages."""
    router.add_get("/admin/calendar", calendar)
    router.add_post("/admin/calendar/deliveries/{id}/retry", retry)
    router.add_post("/admin/calendar/schedules/{id}/cancel", cancel)
