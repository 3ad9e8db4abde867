"""`yehua suggestion`: give an adopted suggestion to a handler, list the open to-dos."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings, say
from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.handling import (
    TELL_KIND,
    assign,
    default_due,
    due_end,
    due_text,
    find_handler,
    is_overdue,
    open_assigned,
    tell_ref,
)
from bot.domain.suggestions import STATUS_LABELS, SuggestionError, get_suggestion
from bot.domain.talk_texts import local_zone
from bot.domain.talk_time import TalkTimeError, TalkTimePast, read_day
from scheduler.dbtypes import utcnow
from scheduler.timers import add_timer

suggestion_app = typer.Typer(help="建议：交给人办、看待办。", no_args_is_help=True)

ACTOR = ("cli", "命令行")


# Who to hand it to, asked with the command line's own examples.
CLI_ASKING = (texts.CLI_SUG_WHO_MISSING, texts.CLI_SUG_NO_SUCH_MEMBER, texts.CLI_SUG_WHICH_MEMBER)


@suggestion_app.command("assign", rich_help_panel=COMMANDS_PANEL,
                        help="把已采纳的建议交给人办：群里的人写名字；群外的人加 --phone。"
                             "期限像平时说话那样写（下周五、12月20号、3天内），不写就按默认天数。")
def suggestion_assign(
    number: Annotated[int, typer.Argument(help="建议的号码")],
    handler: Annotated[str, typer.Argument(help="承办人的名字（群里的名字）")],
    due: Annotated[str, typer.Option("--due", help="期限，例如 下周五")] = "",
    phone: Annotated[str, typer.Option("--phone", help="群外的人的电话")] = "",
    role: Annotated[str, typer.Option("--role", help="身份，例如 网格员")] = "",
) -> None:
    """Assign an adopted suggestion; the running bot tells a member handler privately."""
    settings = load_cli_settings()
    now = utcnow()
    with session(open_database(settings.db_url)) as db:
        try:
            row = get_suggestion(db, number)
            group = db.get(Group, row.group_id)
            assert group is not None and group.id is not None
            chosen = find_handler(db, group.id, handler, phone=phone, role=role,
                                  asking=CLI_ASKING)
            if due.strip():
                day = read_day(due, local_zone(group.timezone), now)
                due_at = due_end(day, group.timezone)
            else:
                due_at = default_due(now, settings.handler_days, group.timezone)
            row, _before = assign(db, number, chosen, due_at=due_at, actor_id=ACTOR[0],
                                  actor_name=ACTOR[1], now=now)
        except TalkTimePast as exc:
            raise fail(texts.HANDLING_PAST_DEADLINE.format(words=due)) from exc
        except TalkTimeError as exc:
            raise fail(texts.HANDLING_BAD_DEADLINE.format(words=due)) from exc
        except SuggestionError as exc:
            raise fail(str(exc)) from exc
        if row.handler_user_id:
            add_timer(db, TELL_KIND, tell_ref(row), now)  # the running bot sends it
        message = texts.CLI_SUG_ASSIGNED.format(number=number, name=chosen.name,
                                                due=due_text(due_at, group.timezone))
    say(message)
    if row.handler_phone:
        say(texts.HANDLING_PHONE_ONLY.format(name=chosen.name, phone=row.handler_phone),
            "yellow")
    elif row.handler_user_id:
        say(texts.CLI_SUG_TELL_LATER.format(name=chosen.name), "cyan")


@suggestion_app.command("todo", rich_help_panel=COMMANDS_PANEL,
                        help="看交出去、还没办结的建议；超期的标出来。")
def suggestion_todo(
    group: Annotated[str, typer.Option("--group", "-g", help="只看这个群")] = "",
) -> None:
    """List open assigned suggestions by deadline, overdue ones marked."""
    now = utcnow()
    with session(open_database(load_cli_settings().db_url)) as db:
        group_id = find_group(db, group).id if group else None
        rows = open_assigned(db, group_id=group_id)
        groups = {g.id: g for g in db.exec(select(Group))}
        if not rows:
            say(texts.CLI_SUG_TODO_NONE, "cyan")
            return
        table = Table(title=texts.CLI_SUG_TODO_TITLE)
        for column in texts.CLI_SUG_TODO_COLUMNS:
            table.add_column(column)
        for row in rows:
            where = groups.get(row.group_id)
            timezone = where.timezone if where else "Asia/Shanghai"
            due = due_text(row.due_at, timezone)
            if is_overdue(row, now):
                due += f" [bold red]{texts.CLI_SUG_OVERDUE}[/]"
            table.add_row(str(row.id), escape(where.name if where else ""),
                          escape(row.handler_name or ""), due, STATUS_LABELS[row.status],
                          escape(row.text[:30]))
    console.print(table)
