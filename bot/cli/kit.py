"""What every `yehua` command shares: the console, settings loading, failing politely."""

from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path

import typer
from dotenv import load_dotenv
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from sqlmodel import Session, col, or_, select

from bot import texts
from bot.core.models import Group
from bot.settings import Settings, SettingsError, load_settings

console = Console()
# Start-up problems go to stderr as one unwrapped line, so a service log shows them whole.
errors = Console(stderr=True, soft_wrap=True, highlight=False)

# Headings that group the commands in `--help` (Typer's own "Options" heading stays).
DAILY_PANEL = "日常使用"
SETUP_PANEL = "设置和账号"
COMMANDS_PANEL = "命令"


# The running bot's log line: cheap to write, one line per record, easy to grep.
SERVICE_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def load_cli_settings(*, serving: bool = False) -> Settings:
    """Read .env and the environment; a bad value ends the command naming the variable.

    `serving`: for the running bot, whose log goes through a plain handler (Rich's costs
    more per line than the work the line reports); the other commands are read by a person,
    so their few lines go through Rich's, folded to the terminal's width.
    """
    load_dotenv()
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        raise settings_failed(exc) from exc
    handler: logging.Handler
    level = settings.log_level
    if serving:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(SERVICE_LOG_FORMAT))
    else:
        handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        # What a command did, it says itself in Chinese; the modules' INFO lines (a village
        # made, a schedule added) are the running bot's log, shown here only when asked for.
        if level == "INFO":
            level = "WARNING"
    logging.basicConfig(level=level, handlers=[handler])
    if settings.log_level != "DEBUG":
        # Their routine chatter (every job run, every migration step) hides what matters.
        for noisy in ("apscheduler", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def settings_failed(exc: SettingsError) -> typer.Exit:
    """One line on stderr naming the variable and what it needs; the caller raises Exit(2)."""
    return stop(texts.CLI_SETTING_BAD.format(problem=exc))


def stop(message: str) -> typer.Exit:
    """One red line on stderr; the caller raises the returned Exit (code 2: nothing was done)."""
    errors.print(f"[bold red]{escape(message)}[/]")
    return typer.Exit(2)


def database_failed(error: Exception) -> typer.Exit:
    """One line on stderr saying the database could not be used and the driver's reason
    (its first line: a full disk, a server that is down, a lock held too long)."""
    reason = str(getattr(error, "orig", None) or error).strip()
    return stop(texts.CLI_DATABASE_FAILED.format(
        error=reason.splitlines()[0] if reason else type(error).__name__))


# Why the system would not read or write a file, as a villager reads it.
_OS_REASONS = {
    errno.ENOSPC: "磁盘满了", errno.EDQUOT: "磁盘配额用完了",
    errno.EFBIG: "磁盘放不下这么大的文件",
    errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.EROFS: "这个磁盘只能读、不能写",
    errno.ENOENT: "找不到这个文件或文件夹", errno.ENOTDIR: "路径里有一段不是文件夹",
    errno.EISDIR: "这是一个文件夹，不是文件", errno.EIO: "磁盘读写出错",
}


def os_reason(error: OSError) -> str:
    """Why `error` happened, in plain Chinese where it is a common reason."""
    return _OS_REASONS.get(error.errno or 0) or error.strerror or str(error)


def output_file(path: Path) -> Path:
    """`path` for a file a command writes, checked first: its folder exists and it is not a
    folder itself (else the command ends saying so, and nothing is written)."""
    if path.is_dir():
        raise fail(texts.CLI_OUT_IS_FOLDER.format(path=path))
    if not path.parent.is_dir():
        raise fail(texts.CLI_OUT_NO_FOLDER.format(folder=path.parent, path=path))
    return path


def fail(message: str) -> typer.Exit:
    """Print `message` in red, as it is (brackets in a name are text, not Rich markup); the
    caller raises the returned Exit (code 1)."""
    console.print(f"[bold red]{escape(message)}[/]")
    return typer.Exit(1)


def say(message: str, style: str = "green") -> None:
    """Print `message` (escaped, so brackets in names stay as typed) in `style`."""
    console.print(f"[{style}]{escape(message)}[/]")


def find_group(db: Session, key: str) -> Group:
    """The one group whose number, chat id or name is `key`; else exit with a Chinese message."""
    condition = or_(Group.chat_id == key, Group.name == key)
    if key.isdigit():
        condition = or_(condition, Group.id == int(key))
    found = list(db.exec(select(Group).where(condition).order_by(col(Group.id))))
    if not found:
        raise fail(texts.CLI_NIGHT_NO_GROUP.format(key=key))
    if len({group.id for group in found}) > 1:
        raise fail(texts.CLI_NIGHT_MANY_GROUPS.format(key=key))
    return found[0]
