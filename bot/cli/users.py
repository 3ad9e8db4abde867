"""`yehua users`: accounts for the web console (/admin): add, list, disable, enable, passwd."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, load_cli_settings
from bot.core.db import open_database, session
from bot.core.models import ConsoleUser, Role
from bot.domain.accounts import AccountError, create_user, find_user, set_disabled, set_password

users_app = typer.Typer(help="管理后台（/admin）的账号：添加、查看、停用、改密码。",
                        no_args_is_help=True)

ROLE_WORDS = {"member": Role.MEMBER, "普通成员": Role.MEMBER, "成员": Role.MEMBER,
              "facilitator": Role.FACILITATOR, "话事佬": Role.FACILITATOR,
              "secretary": Role.SECRETARY, "书记": Role.SECRETARY, "文书": Role.SECRETARY,
              "admin": Role.ADMIN, "管理员": Role.ADMIN}
STDIN_HELP = "从标准输入读一行当密码， 不再提示（给脚本用）"


def _engine() -> Engine:
    return open_database(load_cli_settings().db_url)


def _say(message: str, style: str = "green") -> None:
    console.print(f"[{style}]{escape(message)}[/]")


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice (asked again until both match)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    # Asking twice here, not with prompt(confirmation_prompt=…), keeps the mismatch message
    # Chinese; Ctrl+C or end of input stops with a Chinese line instead of "Aborted.".
    try:
        while True:
            password: str = typer.prompt(texts.CLI_USERS_PASSWORD_PROMPT, hide_input=True)
            again: str = typer.prompt(texts.CLI_USERS_PASSWORD_AGAIN, hide_input=True)
            if password == again:
                return password
            _say(texts.CLI_USERS_PASSWORDS_DIFFER, "yellow")
    except typer.Abort as exc:
        raise fail(texts.CLI_USERS_PASSWORD_STOPPED) from exc


@users_app.command(
    "add", rich_help_panel=COMMANDS_PANEL,
    help="添加一个管理后台账号；密码要输两遍（脚本里可用 --password-stdin）。\n\n"
         "例：yehua users add wang --name 王书记 --role 书记")
def users_add(
    username: Annotated[str, typer.Argument(help="登录用的用户名：英文字母、数字、. _ -")],
    name: Annotated[str, typer.Option("--name", help="显示的名字，如「李书记」")],
    role: Annotated[str, typer.Option(help="secretary（书记或文书）、 facilitator（话事佬）、 "
                                           "admin（管理员） 或 member（普通成员）")] = "secretary",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
) -> None:
    """Add a console account; the password is asked twice (or read from stdin)."""
    chosen = ROLE_WORDS.get(role.strip().lower())
    if chosen is None:
        raise fail(texts.CLI_USERS_BAD_ROLE.format(role=role))
    password = _password(password_stdin)
    try:
        with session(_engine()) as db:
            user = create_user(db, username, name, password, chosen)
            message = texts.CLI_USERS_ADDED.format(username=user.username, name=user.display_name,
                                                   role=texts.ADMIN_ROLE_LABELS[chosen.value])
    except AccountError as exc:
        raise fail(str(exc)) from exc
    _say(message)


@users_app.command("list", rich_help_panel=COMMANDS_PANEL, help="查看管理后台的所有账号。")
def users_list() -> None:
    """List the console accounts."""
    with session(_engine()) as db:
        accounts = list(db.exec(select(ConsoleUser).order_by(col(ConsoleUser.username))))
    if not accounts:
        _say(texts.CLI_USERS_NONE, "yellow")
        return
    zone = load_cli_settings().zone
    table = Table(title=texts.CLI_USERS_TITLE)
    for column in texts.CLI_USERS_COLUMNS:
        table.add_column(column)
    for user in accounts:
        last = user.last_login_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") \
            if user.last_login_at else "—"
        table.add_row(escape(user.username), escape(user.display_name),
                      texts.ADMIN_ROLE_LABELS[user.role.value],
                      texts.CLI_USERS_DISABLED if user.disabled else texts.CLI_USERS_ACTIVE, last)
    console.print(table)


def _set_disabled(username: str, disabled: bool) -> None:
    with session(_engine()) as db:
        user = find_user(db, username)
        if user is None:
            raise fail(texts.CLI_USERS_MISSING.format(username=username))
        set_disabled(db, user, disabled)
        done = texts.CLI_USERS_DISABLED_DONE if disabled else texts.CLI_USERS_ENABLED_DONE
        message = done.format(username=user.username)
    _say(message)


@users_app.command("disable", rich_help_panel=COMMANDS_PANEL,
                   help="停用账号：不能再登录，已经登录的地方也会退出。")
def users_disable(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """Disable an account: it can no longer sign in, and is signed out everywhere."""
    _set_disabled(username, True)


@users_app.command("enable", rich_help_panel=COMMANDS_PANEL, help="恢复使用一个停用的账号。")
def users_enable(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """Enable a disabled account again."""
    _set_disabled(username, False)


@users_app.command("passwd", rich_help_panel=COMMANDS_PANEL,
                   help="给账号设新密码；改好后，这个账号在所有地方都要重新登录。")
def users_passwd(
    username: Annotated[str, typer.Argument(help="用户名")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
) -> None:
    """Set a new password for an account (it is signed out everywhere)."""
    engine = _engine()
    with session(engine) as db:
        if find_user(db, username) is None:
            raise fail(texts.CLI_USERS_MISSING.format(username=username))
    password = _password(password_stdin)
    try:
        with session(engine) as db:
            user = find_user(db, username)
            if user is None:
                raise fail(texts.CLI_USERS_MISSING.format(username=username))
            set_password(db, user, password)
            message = texts.CLI_USERS_PASSWORD_SET.format(username=user.username)
    except AccountError as exc:
        raise fail(str(exc)) from exc
    _say(message)
