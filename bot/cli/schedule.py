"""`yehua schedule …`: post a lesson to groups at a set time, once or repeatedly."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings
from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.lesson_library import entry, take_in_file
from bot.domain.talk_texts import when_text
from bot.domain.talk_time import TalkTimeError, parse_plain_time
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import ScheduleTarget
from scheduler.schedules import ScheduleError, add_schedule, cancel_schedule, list_schedules

schedule_app = typer.Typer(help="定时推送课程：安排、查看、取消。", no_args_is_help=True)


def _engine(settings: Settings) -> Engine:
    return open_database(settings.db_url)


def _find_groups(db: Session, keys: list[str]) -> list[Group]:
    """The groups `keys` name, each one group (a name two groups share is refused, as
    everywhere else: the lesson would go to both)."""
    groups: list[Group] = []
    for key in keys:
        found = find_group(db, key)
        if found not in groups:
            groups.append(found)
    return groups


def parse_local_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """'2026-12-01 20:00' or '20:00' (the next one) in `zone`, as aware UTC."""
    try:
        return parse_plain_time(text.replace("/", "-"), zone, now)
    except TalkTimeError as exc:
        raise ScheduleError(f"时间「{text}」看不懂，请写成 2026-12-01 20:00 或 20:00") from exc


GROUP_HELP = "群的编号、名称或 chat id，可写多次"
AT_HELP = "一次性：2026-12-01 20:00 或 20:00"
CRON_HELP = "按周期：如 \"0 20 * * 5\"（每周五晚八点）"


@schedule_app.command(
    "add", rich_help_panel=COMMANDS_PANEL,
    help="安排定时推送：把一课发到一个或几个群，发一次用 --at，按周期发用 --cron。\n\n"
         "例：yehua schedule add telecom-fraud -g 枫树屋场 --cron \"0 20 * * 5\"")
def schedule_add(
    lesson: Annotated[str, typer.Argument(help="课程编号，见 yehua lessons list")],
    group: Annotated[list[str], typer.Option("--group", "-g", help=GROUP_HELP)],
    at: Annotated[str | None, typer.Option(help=AT_HELP)] = None,
    cron: Annotated[str | None, typer.Option(help=CRON_HELP)] = None,
) -> None:
    """Schedule a lesson to one or more groups, once (--at) or repeatedly (--cron)."""
    settings = load_cli_settings()
    if (at is None) == (cron is None):
        raise fail("请用 --at 或 --cron 二选一指定时间。")
    now = utcnow()
    with session(_engine(settings)) as db:
        take_in_file(db, settings.lessons_dir, lesson)
        found = entry(db, settings.lessons_dir, lesson)
        if found is None:
            raise fail(f"课程库里没有「{lesson}」。用 yehua lessons list 查看课程编号。")
        if found.archived:
            raise fail(texts.CLI_LESSON_ARCHIVED.format(slug=lesson))
        groups = _find_groups(db, group)
        try:
            run_at = parse_local_time(at, ZoneInfo(groups[0].timezone), now) if at else None
            schedule = add_schedule(db, lesson, [(g.id, g.timezone) for g in groups if g.id],
                                    run_at=run_at, cron=cron, now=now)
        except ScheduleError as exc:
            raise fail(str(exc)) from exc
        # Said back in words, as the group's clock reads it: 8:00 is the morning's.
        first = db.exec(select(ScheduleTarget).where(ScheduleTarget.schedule_id == schedule.id)
                        .order_by(col(ScheduleTarget.next_due))).first()
        when = (texts.CLI_SCHEDULE_FIRST.format(when=when_text(first.next_due, first.timezone,
                                                                   now))
                if first is not None and first.next_due is not None else "")
    names = "、".join(g.name for g in groups)
    console.print(f"[green]已安排[/] #{schedule.id}：「{escape(lesson)}」→ {escape(names)}"
                  f"{when}", highlight=False)


@schedule_app.command("list", rich_help_panel=COMMANDS_PANEL,
                      help="查看所有定时推送，和下次发送的时间。")
def schedule_list(
    all_: Annotated[bool, typer.Option("--all", help="也显示已取消的")] = False,
) -> None:
    """List schedules with their next due time."""
    settings = load_cli_settings()
    zone = settings.zone
    with session(_engine(settings)) as db:
        views = list_schedules(db, include_cancelled=all_)
        names = {g.id: g.name for g in db.exec(select(Group)).all()}
    table = Table(title="定时推送")
    for column in ("#", "课程", "规则", "群", "下次", "状态"):
        table.add_column(column)
    for v in views:
        due = v.next_due.astimezone(zone).strftime("%Y-%m-%d %H:%M") if v.next_due else "—"
        table.add_row(str(v.id), v.lesson_slug, v.rule,
                      "、".join(names.get(g, str(g)) for g in v.group_ids), due,
                      "已取消" if v.cancelled else "有效")
    console.print(table)


@schedule_app.command("cancel", rich_help_panel=COMMANDS_PANEL,
                      help="取消一个定时推送；已经发出去的课不会撤回。")
def schedule_cancel(schedule_id: Annotated[int, typer.Argument(help="定时推送的编号 #")]) -> None:
    """Cancel a schedule; what was already sent stays sent."""
    settings = load_cli_settings()
    with session(_engine(settings)) as db:
        try:
            cancel_schedule(db, schedule_id)
        except ScheduleError as exc:
            raise fail(str(exc)) from exc
    console.print(f"[green]已取消[/] #{schedule_id}")
