"""`yehua roles …`: who is a facilitator, secretary or admin in a group."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings, say
from bot.core.db import open_database, session
from bot.core.models import Group, Member, Role
from bot.domain.members import find_member, grant_role

roles_app = typer.Typer(help="角色：谁是话事佬、书记或文书、管理员。", no_args_is_help=True)

ROLE_WORDS = {"facilitator": Role.FACILITATOR, "话事佬": Role.FACILITATOR,
              "主持": Role.FACILITATOR, "secretary": Role.SECRETARY, "书记": Role.SECRETARY,
              "文书": Role.SECRETARY, "admin": Role.ADMIN, "管理员": Role.ADMIN}
GROUP_HELP = "群的编号、名称或 chat id"


def _engine() -> Engine:
    return open_database(load_cli_settings().db_url)


@roles_app.command(
    "grant", rich_help_panel=COMMANDS_PANEL,
    help="给某人在群里设一个角色：话事佬、书记或文书、管理员。\n\n"
         "例：yehua roles grant 10086 -g 枫树屋场 --role 话事佬")
def roles_grant(
    user_id: Annotated[str, typer.Argument(help="用户在平台上的编号，或他在群里的名字")],
    group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)],
    role: Annotated[str, typer.Option(help="facilitator（话事佬）、 secretary（书记或文书）"
                                           "或 admin（管理员）")],
    name: Annotated[str | None, typer.Option(help="名字，还没在群里说过话的人可以写上")] = None,
) -> None:
    """Give someone a role in a group."""
    chosen_role = ROLE_WORDS.get(role.strip().lower())
    if chosen_role is None:
        raise fail(texts.CLI_ROLE_BAD.format(role=role))
    with session(_engine()) as db:
        chosen = find_group(db, group)
        found = _the_member(db, chosen, user_id)
        if found is None and not _platform_id(user_id):
            # A name nobody in the group goes by: as a user id it would make a member no
            # message ever comes from, and points given "to" that name would go to them.
            raise fail(texts.CLI_ROLE_NO_SUCH_NAME.format(group=chosen.name,
                                                                 who=user_id.strip()))
        member = grant_role(db, chosen, found.user_id if found else user_id.strip(),
                            chosen_role, name)
        message = texts.CLI_ROLE_GRANTED.format(
            name=member.display_name, user=member.user_id, group=chosen.name,
            role=texts.CLI_ROLE_LABELS[chosen_role.value])
    say(message)


def _the_member(db: Session, group: Group, who: str) -> Member | None:
    """The member `who` names in the group: by user id, else by their whole display name;
    None if nobody; several of one name end the command asking for the user id."""
    who = who.strip()
    found = find_member(db, group, who)
    if found is not None:
        return found
    named = list(db.exec(select(Member).where(Member.group_id == group.id,
                                              Member.display_name == who)))
    if len(named) > 1:
        raise fail(texts.CLI_ROLE_WHICH.format(name=who, names="、".join(
            f"{m.display_name}（{m.user_id}）" for m in named)))
    return named[0] if named else None


def _platform_id(text: str) -> bool:
    """Whether `text` can be an id a platform gives (QQ and Telegram numbers, WeCom, DingTalk
    and Feishu ids are letters, digits and a few marks), not a person's name."""
    text = text.strip()
    return bool(text) and text.isascii() and not any(c.isspace() for c in text)


@roles_app.command("revoke", rich_help_panel=COMMANDS_PANEL,
                   help="取消某人在群里的角色，变回普通成员。")
def roles_revoke(
    user_id: Annotated[str, typer.Argument(help="用户在平台上的编号，或他在群里的名字")],
    group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)],
) -> None:
    """Take someone's role away: they become a plain member."""
    with session(_engine()) as db:
        chosen = find_group(db, group)
        member = _the_member(db, chosen, user_id)
        if member is None:
            raise fail(texts.CLI_ROLE_NO_MEMBER.format(group=chosen.name, user=user_id))
        fields = {"name": member.display_name, "user": member.user_id, "group": chosen.name,
                  "role": texts.CLI_ROLE_LABELS[member.role.value]}
        if member.role == Role.MEMBER:
            say(texts.CLI_ROLE_ALREADY_MEMBER.format(**fields), "yellow")
            return
        member.role = Role.MEMBER
        db.add(member)
    say(texts.CLI_ROLE_REVOKED.format(**fields))


@roles_app.command("list", rich_help_panel=COMMANDS_PANEL,
                   help="查看一个群里谁是话事佬、书记或文书、管理员。")
def roles_list(group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)]) -> None:
    """List who holds a role in a group."""
    with session(_engine()) as db:
        chosen = find_group(db, group)
        holders = list(db.exec(select(Member).where(Member.group_id == chosen.id,
                                                    Member.role != Role.MEMBER)
                               .order_by(col(Member.role), col(Member.display_name))))
    if not holders:
        say(texts.CLI_ROLE_NONE.format(group=chosen.name), "yellow")
        return
    table = Table(title=escape(texts.CLI_ROLE_LIST_TITLE.format(group=chosen.name)))
    for column in texts.CLI_ROLE_LIST_COLUMNS:
        table.add_column(column)
    for member in holders:
        table.add_row(escape(member.user_id), escape(member.display_name),
                      texts.CLI_ROLE_LABELS[member.role.value])
    console.print(table)
