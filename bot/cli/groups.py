"""`yehua groups …`: the groups the bot posts to: list and add; their 屋场 and who is in which."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings, say
from bot.core.adapter import PLATFORM_ALIASES, PLATFORM_NAMES
from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.hamlets import (
    HamletError,
    add_hamlet,
    assign_member,
    hamlet_sizes,
    remove_hamlet,
    rename_hamlet,
)
from bot.domain.members import find_member
from bot.domain.points import PointsRules
from bot.domain.points_items import set_up_village

groups_app = typer.Typer(help="群：查看和添加群，管理群里的屋场。", no_args_is_help=True)


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
        table.add_row(str(g.id), g.platform, escape(g.chat_id), escape(g.name),
                      escape(g.hamlet), g.timezone)
    console.print(table)


@groups_app.command(
    "add", rich_help_panel=COMMANDS_PANEL,
    help="添加一个群：网页群聊，或其他平台上的群。\n\n"
         "例：yehua groups add 枫树屋场 --chat-id fengshu")
def groups_add(
    name: Annotated[str, typer.Argument(help="群名，如「枫树屋场」")],
    chat_id: Annotated[str, typer.Option(help="平台上的群号；网页群聊用简短英文")],
    platform: Annotated[str, typer.Option(help=texts.CLI_GROUP_PLATFORM_HELP)] = "web",
    hamlet: Annotated[str, typer.Option(help="所属屋场")] = "",
    timezone: Annotated[str | None, typer.Option(help="时区，默认 YEHUA_TIMEZONE")] = None,
) -> None:
    """Add a group (a web chat room, or a group on a platform)."""
    settings = load_cli_settings()
    name, chat_id = name.strip(), chat_id.strip()
    platform = platform.strip().lower()
    platform = PLATFORM_ALIASES.get(platform, platform)
    if platform not in PLATFORM_NAMES:
        raise fail(texts.CLI_GROUP_PLATFORM_BAD.format(platform=platform))
    if not name:
        raise fail(texts.CLI_GROUP_NAME_EMPTY)
    if not chat_id or any(c.isspace() for c in chat_id):
        raise fail(texts.CLI_GROUP_CHAT_ID_BAD.format(chat_id=chat_id))
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
        set_up_village(db, group, PointsRules.of(settings))
        console.print(f"[green]已添加[/] 群 #{group.id}「{escape(name)}」")


@groups_app.command(
    "hamlets", rich_help_panel=COMMANDS_PANEL,
    help="查看或管理一个群的屋场：不带动作就列出屋场和各有几人。\n\n"
         "例：yehua groups hamlets 枫树村大群 add 上屋场\n\n"
         "　　yehua groups hamlets 枫树村大群 rename 上屋场 上湾屋场\n\n"
         "　　yehua groups hamlets 枫树村大群 remove 上湾屋场")
def groups_hamlets(
    group_key: Annotated[str, typer.Argument(metavar="GROUP", help="群的编号、chat id 或群名")],
    action: Annotated[str | None, typer.Argument(help="add、rename 或 remove")] = None,
    names: Annotated[list[str] | None, typer.Argument(
        metavar="NAME...", help="屋场名；rename 要旧名和新名")] = None,
) -> None:
    """List a group's hamlets, or add, rename or remove one."""
    names = names or []
    wanted = {"add": 1, "rename": 2, "remove": 1}
    if action is not None and (action not in wanted or len(names) != wanted[action]):
        raise fail("用法：yehua groups hamlets GROUP [add 屋场名 | rename 旧名 新名 | "
                   "remove 屋场名]")
    settings = load_cli_settings()
    with session(open_database(settings.db_url)) as db:
        group = find_group(db, group_key)
        assert group.id is not None
        try:
            if action == "add":
                hamlet = add_hamlet(db, group, names[0])
                say(texts.CLI_HAMLET_ADDED.format(group=group.id, name=hamlet.name))
                return
            if action == "rename":
                hamlet = rename_hamlet(db, group.id, names[0], names[1])
                say(texts.CLI_HAMLET_RENAMED.format(old=names[0], name=hamlet.name))
                return
            if action == "remove":
                moved = remove_hamlet(db, group.id, names[0])
                say(texts.CLI_HAMLET_REMOVED.format(name=names[0], n=moved))
                return
        except HamletError as exc:
            raise fail(str(exc)) from exc
        hamlets = [(hamlet.name, size) for hamlet, size in hamlet_sizes(db, group.id)]
    if not hamlets:
        say(texts.CLI_HAMLETS_NONE.format(group=group.id), "yellow")
        return
    table = Table(title=escape(f"群 #{group.id}「{group.name}」的屋场"))
    for column in ("屋场", "人数"):
        table.add_column(column)
    for name, size in hamlets:
        table.add_row(escape(name), str(size))
    console.print(table)


@groups_app.command(
    "assign-hamlet", rich_help_panel=COMMANDS_PANEL,
    help="把群里的一个人分到一个屋场；不写屋场就是不分屋场。\n\n"
         "例：yehua groups assign-hamlet 枫树村大群 user-zhang 上屋场")
def groups_assign_hamlet(
    group_key: Annotated[str, typer.Argument(metavar="GROUP", help="群的编号、chat id 或群名")],
    user_id: Annotated[str, typer.Argument(metavar="USER", help="这个人在平台上的用户编号")],
    hamlet_name: Annotated[str, typer.Argument(metavar="HAMLET", help="屋场名")] = "",
) -> None:
    """Place a member of a group in one of its hamlets (or in none)."""
    settings = load_cli_settings()
    with session(open_database(settings.db_url)) as db:
        group = find_group(db, group_key)
        assert group.id is not None
        member = find_member(db, group, user_id)
        if member is None:
            raise fail(texts.CLI_MEMBER_NOT_FOUND.format(group=group.id, user=user_id))
        try:
            hamlet = assign_member(db, group.id, member, hamlet_name)
        except HamletError as exc:
            raise fail(str(exc)) from exc
        name = member.display_name
    if hamlet is None:
        say(texts.CLI_HAMLET_UNASSIGNED.format(name=name))
    else:
        say(texts.CLI_HAMLET_ASSIGNED.format(name=name, hamlet=hamlet.name))
