"""`yehua groups …`: the groups the bot posts to: list and add."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlmodel import col, select

from bot.cli.kit import COMMANDS_PANEL, console, fail, load_cli_settings
from bot.core.db import open_database, session
from bot.core.models import Group

groups_app = typer.Typer(help="群：查看和添加群。", no_args_is_help=True)


@groups_app.command("list", rich_help_panel=COMMANDS_PANEL,
                    help="查看机器人往哪些群里发消息。")
def groups_list() -> None:
    """List the groups the bot posts to."""
    settings = load_cli_settings()
    with session(open_database(settings.db_url)) as db:
        groups = db.exec(select(Group).order_by(col(Group.id))).all()
    table = Table(title="群")
    for column in ("编号", "平台", "chat id", "名称", "屋场", "时区"):
        table.add_column(column)
    for g in groups:
        table.add_row(str(g.id), g.platform, g.chat_id, g.name, g.hamlet, g.timezone)
    console.print(table)


@groups_app.command(
    "add", rich_help_panel=COMMANDS_PANEL,
    help="添加一个群：网页群聊，或其他平台上的群。\n\n"
         "例：yehua groups add 枫树屋场 --chat-id fengshu")
def groups_add(
    name: Annotated[str, typer.Argument(help="群名，如「枫树屋场」")],
    chat_id: Annotated[str, typer.Option(help="平台上的群号；网页群聊用简短英文")],
    platform: Annotated[str, typer.Option(help="平台")] = "web",
    hamlet: Annotated[str, typer.Option(help="所属屋场")] = "",
    timezone: Annotated[str | None, typer.Option(help="时区，默认 YEHUA_TIMEZONE")] = None,
) -> None:
    """Add a group (a web chat room, or a group on a platform)."""
    settings = load_cli_settings()
    zone = timezone or settings.timezone
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError) as exc:
        raise fail(f"时区「{zone}」不认识，例如 Asia/Shanghai") from exc
    with session(open_database(settings.db_url)) as db:
        if db.exec(select(Group).where(Group.platform == platform,
                                       Group.chat_id == chat_id)).first():
            raise fail(f"{platform} 上已经有 chat id 为 {chat_id} 的群。")
        group = Group(platform=platform, chat_id=chat_id, name=name, hamlet=hamlet or name,
                      timezone=zone)
        db.add(group)
        db.flush()
        console.print(f"[green]已添加[/] 群 #{group.id}「{name}」")
