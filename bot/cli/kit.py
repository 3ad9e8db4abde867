"""What every `yehua` command shares: the console, settings loading, failing politely."""

from __future__ import annotations

import logging
import os

import typer
from dotenv import load_dotenv
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from bot.settings import Settings, SettingsError, load_settings

console = Console()

# Headings that group the commands in `--help` (Typer's own "Options" heading stays).
DAILY_PANEL = "日常使用"
SETUP_PANEL = "设置和账号"
COMMANDS_PANEL = "命令"


def load_cli_settings() -> Settings:
    """Read .env and the environment; a bad value ends the command naming the variable."""
    load_dotenv()
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        console.print(f"[bold red]设置有误[/]：{escape(exc.variable)} 的值用不了，"
                      "请改一下 .env 文件或环境变量。")
        console.print(escape(str(exc)), style="dim", highlight=False)
        raise typer.Exit(2) from exc
    logging.basicConfig(level=settings.log_level, format="%(name)s: %(message)s",
                        handlers=[RichHandler(console=Console(stderr=True), show_path=False)])
    if settings.log_level != "DEBUG":
        # Their routine chatter (every job run, every migration step) hides what matters.
        for noisy in ("apscheduler", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def fail(message: str) -> typer.Exit:
    """Print `message` in red; the caller raises the returned Exit (code 1)."""
    console.print(f"[bold red]{message}[/]")
    return typer.Exit(1)
