"""`yehua nighttalk`: night talks from the shell (schedule, list, open, close, cancel)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import click
import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings, say
from bot.core.db import open_database, session
from bot.core.models import Group, NightTalk, NightTalkSeries
from bot.domain.nighttalks import (
    CANCEL,
    CLOSE,
    OPEN,
    NightTalkError,
    cancel_night_talk,
    confirm_night_talk,
    end_night_talk,
    end_series,
    list_talks,
    open_night_talk,
    talk_ref,
    when_text,
)
from bot.domain.talk_drafts import draft_night_talk, list_series, series_next
from bot.domain.talk_series import repeat_of, rhythm_text
from bot.domain.talk_texts import clock_text, local_zone
from bot.domain.talk_time import TalkTime, TalkTimeError, TalkTimePast, read_talk_time
from scheduler.dbtypes import utcnow
from scheduler.timers import add_timer

nighttalk_app = typer.Typer(help="夜话：安排、查看、开始、结束、取消。", no_args_is_help=True)

CLOCK_ONLY = re.compile(r"\d{1,2}:\d{2}")
MIN_HOURS, MAX_HOURS = 0.5, 12.0
GROUP_HELP = "群的编号、名称或 chat id"


def _engine() -> Engine:
    return open_database(load_cli_settings().db_url)


def read_time(text: str, zone: ZoneInfo, now: datetime) -> TalkTime:
    """'2026-12-05 19:30', 明晚7点半 or 每月第一个周五晚上7点半, as the chat reads them."""
    try:
        return read_talk_time(text.replace("/", "-"), zone, now)
    except TalkTimePast as exc:
        raise NightTalkError(texts.TALK_PAST.format(
            when=when_text(exc.at, zone.key, now))) from exc
    except TalkTimeError as exc:
        raise NightTalkError(texts.CLI_NIGHT_BAD_TIME.format(text=text)) from exc


def _understood(read: TalkTime, group: Group, topic: str, place: str, host: str,
                now: datetime) -> str:
    """Everything the talk will be, said back to be checked before the group is told."""
    when = when_text(read.starts_at, group.timezone, now)
    extra = (texts.CLI_NIGHT_UNDERSTOOD_PLACE.format(place=place.strip()) if place.strip()
             else "") + (texts.CLI_NIGHT_UNDERSTOOD_HOST.format(host=host.strip())
                         if host.strip() else "")
    if read.repeat is None:
        return texts.CLI_NIGHT_UNDERSTOOD.format(when=when, group=group.name, topic=topic,
                                                 extra=extra)
    return texts.CLI_NIGHT_UNDERSTOOD_SERIES.format(rhythm=rhythm_text(read.repeat), when=when,
                                                    group=group.name, topic=topic, extra=extra)


# Answers to a yes/no question, as people type them at the terminal.
YES_WORDS = frozenset({"y", "yes", "是", "是的", "对", "对的", "好", "好的", "确认", "可以", "行"})
NO_WORDS = frozenset({"n", "no", "不", "不是", "不对", "否", "取消", "算了", ""})


def _agreed() -> bool:
    """The user's yes (是、对、y…) or no (不、否、n, or nothing); anything else is asked again.
    No answer to be had (no terminal, end of input) refuses."""
    try:
        while True:
            answer = click.prompt(texts.CLI_NIGHT_ASK, default="", show_default=False)
            word = answer.strip().strip("。！!.").lower()
            if word in YES_WORDS or word in NO_WORDS:
                return word in YES_WORDS
            console.print(texts.CLI_ANSWER_YES_NO)
    except click.Abort as exc:
        raise fail(texts.CLI_NIGHT_NEEDS_YES) from exc


@nighttalk_app.command(
    "add", rich_help_panel=COMMANDS_PANEL,
    help="安排一场夜话：先说出看到的时间请您确认，再由机器人提前通知、到时提醒，按时开始和结束。"
         "时间可以写“每月第一个周五晚上7点半”，就每月都开。\n\n"
         "例：yehua nighttalk add -g 枫树屋场 --at 明晚7点半 --topic 村里修路")
def nighttalk_add(
    group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)],
    at: Annotated[str, typer.Option(help="开始时间：2026-12-05 19:30、明晚7点半、"
                                         "每周五晚上7点半（群所在时区）")],
    topic: Annotated[str, typer.Option(help="话题，如「村里修路」")],
    place: Annotated[str, typer.Option(help="地点或屋场")] = "",
    host: Annotated[str, typer.Option(help="主持人（话事佬）")] = "",
    hours: Annotated[float, typer.Option(help="开多久（小时）")] = 2.0,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="不用再问，直接安排")] = False,
) -> None:
    """Schedule a night talk (or a series) once the user agrees with the time as read."""
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise fail(texts.CLI_NIGHT_BAD_HOURS.format(hours=f"{hours:g}"))
    if not topic.strip():
        raise fail(texts.NIGHT_ERR_NO_TOPIC)
    now = utcnow()
    engine = _engine()
    with session(engine) as db:
        chosen = find_group(db, group)
        try:
            read = read_time(at, local_zone(chosen.timezone), now)
        except NightTalkError as exc:
            raise fail(str(exc)) from exc
    # Asked outside any transaction: the running bot must not wait on the user's answer.
    say(_understood(read, chosen, topic, place, host, now), "cyan")
    if not yes and not _agreed():
        raise fail(texts.CLI_NIGHT_NOT_DONE)
    with session(engine) as db:
        chosen = find_group(db, group)
        try:
            talk = draft_night_talk(db, group=chosen, read=read, topic=topic, place=place,
                                    host=host, created_by="cli", now=now,
                                    length=timedelta(hours=hours))
            assert talk.id is not None
            confirm_night_talk(db, talk.id, now=now)
        except NightTalkError as exc:
            raise fail(str(exc)) from exc
        when = when_text(talk.starts_at, chosen.timezone, now)
        if read.repeat is None:
            message = texts.CLI_NIGHT_ADDED.format(id=talk.id, when=when, group=chosen.name,
                                                   topic=talk.topic)
        else:
            message = texts.CLI_NIGHT_SERIES_ADDED.format(
                series=talk.series_id, rhythm=rhythm_text(read.repeat), group=chosen.name,
                topic=talk.topic, id=talk.id, when=when)
    say(message)


@nighttalk_app.command("list", rich_help_panel=COMMANDS_PANEL,
                       help="查看还没开始和正在开的夜话；加 --all 连已结束、已取消的也看。")
def nighttalk_list(
    all_: Annotated[bool, typer.Option("--all", help="也显示已结束、已取消的")] = False,
) -> None:
    """List night talks: the coming and open ones, or all of them."""
    now = utcnow()
    with session(_engine()) as db:
        talks = list_talks(db, include_past=all_)
        groups = {g.id: g for g in db.exec(select(Group))}
        series = [(one, series_next(db, one.id or 0))
                  for one in list_series(db, include_cancelled=all_)]
    if series:
        _print_series(series, groups, now)
    if not talks:
        say(texts.CLI_NIGHT_NONE, "yellow")
        return
    table = Table(title=texts.CLI_NIGHT_LIST_TITLE)
    for column in texts.CLI_NIGHT_LIST_COLUMNS:
        table.add_column(column)
    for talk in talks:
        group = groups.get(talk.group_id)
        zone = group.timezone if group else "Asia/Shanghai"
        when = f"{when_text(talk.starts_at, zone, now)}–{clock_text(talk.ends_at, zone)}"
        table.add_row(str(talk.id), escape(group.name if group else str(talk.group_id)), when,
                      escape(talk.topic), escape(talk.place), escape(talk.host),
                      texts.NIGHT_STATUS_LABELS[talk.status.value])
    console.print(table)


def _print_series(series: list[tuple[NightTalkSeries, NightTalk | None]],
                  groups: dict[int | None, Group], now: datetime) -> None:
    table = Table(title=texts.CLI_NIGHT_SERIES_TITLE)
    for column in texts.CLI_NIGHT_SERIES_COLUMNS:
        table.add_column(column)
    for one, coming in series:
        group = groups.get(one.group_id)
        zone = group.timezone if group else "Asia/Shanghai"
        table.add_row(str(one.id), escape(group.name if group else str(one.group_id)),
                      rhythm_text(repeat_of(one)), escape(one.topic),
                      f"#{coming.id} {when_text(coming.starts_at, zone, now)}" if coming else "",
                      texts.NIGHT_SERIES_STATUS_LABELS[one.status.value])
    console.print(table)


def _change(talk_id: int, change: Callable[..., NightTalk], kind: str, done: str) -> None:
    """Change a talk's state here; the running bot posts the step (a timer due now)."""
    now = utcnow()
    with session(_engine()) as db:
        before = db.get(NightTalk, talk_id)
        status = before.status if before is not None else None
        try:
            talk = change(db, talk_id, now=now)
        except NightTalkError as exc:
            raise fail(str(exc)) from exc
        if talk.status == status:
            say(texts.CLI_NIGHT_ALREADY.format(
                id=talk_id, status=texts.NIGHT_STATUS_LABELS[talk.status.value]), "yellow")
            return
        add_timer(db, kind, talk_ref(talk_id), now)
    say(done.format(id=talk_id))


@nighttalk_app.command("open", rich_help_panel=COMMANDS_PANEL,
                       help="现在就开始一场夜话，不用等到约好的时间。")
def nighttalk_open(talk_id: Annotated[int, typer.Argument(help="夜话编号")]) -> None:
    """Open a night talk now (ahead of its time)."""
    _change(talk_id, open_night_talk, OPEN, texts.CLI_NIGHT_OPENED)


@nighttalk_app.command("close", rich_help_panel=COMMANDS_PANEL,
                       help="现在结束一场夜话，机器人把收到的建议总结发到群里。")
def nighttalk_close(talk_id: Annotated[int, typer.Argument(help="夜话编号")]) -> None:
    """Close a night talk now; the bot posts the numbered summary."""
    _change(talk_id, end_night_talk, CLOSE, texts.CLI_NIGHT_CLOSED)


@nighttalk_app.command("cancel", rich_help_panel=COMMANDS_PANEL,
                       help="取消一场夜话；如果已经通知过，机器人会在群里告诉大家。"
                            "重复的夜话只取消这一次，下一次照开；加 --series 整个系列都不开了。")
def nighttalk_cancel(
    talk_id: Annotated[int, typer.Argument(help="夜话编号")],
    series: Annotated[bool, typer.Option("--series", help="这场所属的重复夜话以后都不开")] = False,
) -> None:
    """Call a night talk (or its whole series) off; if announced, the bot tells the group."""
    if not series:
        _change(talk_id, cancel_night_talk, CANCEL, texts.CLI_NIGHT_CANCELLED)
        return
    now = utcnow()
    with session(_engine()) as db:
        talk = db.get(NightTalk, talk_id)
        if talk is None:
            raise fail(texts.NIGHT_ERR_NO_TALK.format(id=talk_id))
        if talk.series_id is None:
            raise fail(texts.CLI_NIGHT_NOT_IN_SERIES.format(id=talk_id))
        for coming in end_series(db, talk.series_id):
            cancel_night_talk(db, coming, now=now)
            add_timer(db, CANCEL, talk_ref(coming), now)  # the running bot tells the group
        series_id = talk.series_id
    say(texts.CLI_NIGHT_SERIES_CANCELLED.format(series=series_id))
