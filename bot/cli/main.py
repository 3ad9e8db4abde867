"""The `yehua` command: assembles every command group; with no command it runs the bot."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import socket
from typing import TYPE_CHECKING

import typer

from bot import texts
from bot.cli import (
    backup,
    groups,
    lesson_voice,
    lessons,
    nighttalks,
    points,
    report,
    roles,
    schedule,
    suggestions,
    users,
)
from bot.cli.kit import (
    DAILY_PANEL,
    SETUP_PANEL,
    console,
    database_failed,
    load_cli_settings,
    os_reason,
    settings_failed,
    stop,
)
from bot.core.bus import wake
from bot.core.db import is_storage_fault
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from aiohttp import web

LISTEN_BACKLOG = 128

app = typer.Typer(help="夜话：村里群聊的微党课、夜话和建议助手。\n\n"
                       "不写命令，直接运行 yehua，就是启动机器人（和 yehua run 一样）。",
                  no_args_is_help=False, add_completion=False)
app.add_typer(lessons.lessons_app, name="lessons", rich_help_panel=DAILY_PANEL)
app.add_typer(schedule.schedule_app, name="schedule", rich_help_panel=DAILY_PANEL)
app.add_typer(nighttalks.nighttalk_app, name="nighttalk", rich_help_panel=DAILY_PANEL)
app.add_typer(suggestions.suggestion_app, name="suggestion", rich_help_panel=DAILY_PANEL)
app.add_typer(points.points_app, name="points", rich_help_panel=DAILY_PANEL)
app.add_typer(groups.groups_app, name="groups", rich_help_panel=SETUP_PANEL)
app.add_typer(roles.roles_app, name="roles", rich_help_panel=SETUP_PANEL)
app.add_typer(users.users_app, name="users", rich_help_panel=SETUP_PANEL)


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context) -> None:
    """With no command: start the bot."""
    if ctx.invoked_subcommand is None:
        run()
    elif ctx.invoked_subcommand != "run":
        ctx.call_on_close(_wake_the_bot)


def _wake_the_bot() -> None:
    """After a command, tell a bot running on this data folder to look at its schedules now
    (on SQLite; on PostgreSQL the database's own notifications reach every instance)."""
    try:
        settings = load_settings(os.environ)
    except SettingsError:
        return
    if settings.db_url.startswith("sqlite"):
        wake(settings.data_dir)


def _listen_failed(exc: OSError, host: str, port: int) -> typer.Exit:
    if exc.errno == errno.EADDRINUSE:
        return stop(texts.CLI_PORT_BUSY.format(port=port, other=port + 1 if port < 65535
                                               else 8080))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return stop(texts.CLI_PORT_DENIED.format(port=port))
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return stop(texts.CLI_HOST_BAD.format(host=host))
    return stop(texts.CLI_LISTEN_FAILED.format(host=host, port=port, error=exc.strerror or exc))


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets listening on host:port, taken before anything starts; exit 2 when they can't be.

    Listening at once (not only binding) is what makes the port ours: Linux lets a second
    SO_REUSEADDR socket bind a port nobody listens on yet.
    """
    sockets: list[socket.socket] = []
    try:
        found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        addresses = list(dict.fromkeys((family, address) for family, _, _, _, address in found))
        for family, address in addresses[:1] if port == 0 else addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            if os.name == "posix":  # as asyncio does: on Windows it would let ports be stolen
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise _listen_failed(exc, host, port) from exc
    return sockets


def _prepare_data_dir(settings: Settings) -> None:
    try:
        settings.audio_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".yehua-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise stop(texts.CLI_DATA_DIR_BAD.format(path=settings.data_dir.resolve(),
                                                 error=exc.strerror or exc)) from exc


@app.command("run", rich_help_panel=DAILY_PANEL,
             help="启动机器人：网页群聊、定时推送、课程语音都开始工作，按 Ctrl+C 停止。")
def run() -> None:
    """Start the bot: every setting checked, the port taken, then web chat, scheduler, lessons."""
    from aiohttp import web
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import check_platform_settings, create_app

    settings = load_cli_settings(serving=True)
    try:
        check_platform_settings(settings)
    except SettingsError as exc:
        raise settings_failed(exc) from exc
    sockets = listen(settings.host, settings.port)
    try:
        _prepare_data_dir(settings)
        application = create_app(settings)
    except (typer.Exit, SettingsError, SQLAlchemyError) as exc:
        for sock in sockets:
            sock.close()
        if isinstance(exc, SettingsError):
            raise settings_failed(exc) from exc
        if isinstance(exc, SQLAlchemyError):
            raise database_failed(exc) from exc
        raise
    application.on_startup.append(_freeze_start_up)
    port = sockets[0].getsockname()[1]
    console.print(texts.CLI_STARTED.format(host=settings.host, port=port))
    web.run_app(application, sock=sockets, print=None, access_log=None,
                loop=_event_loop(settings))


async def _freeze_start_up(_app: web.Application) -> None:
    """What start-up built lives as long as the process: the garbage collector leaves it out
    from now on, so its passes under load walk only what messages create. And they come less
    often: a message's objects die with it (reference counting frees them, not the collector),
    so a pass every 700 new objects, the default, mostly walks the requests still under way;
    one every 10,000 walks each about as long and frees the rare cycle a little later."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    """uvloop when it is installed and wanted (it takes less CPU per message), else asyncio's."""
    log = logging.getLogger("bot")
    if settings.uvloop:
        try:
            import uvloop
        except ImportError:
            log.info("event loop: asyncio (uvloop is not installed)")
        else:
            log.info("event loop: uvloop %s", uvloop.__version__)
            return uvloop.new_event_loop()
    else:
        log.info("event loop: asyncio (YEHUA_UVLOOP=false)")
    return asyncio.new_event_loop()


lessons.lessons_app.command("voice", rich_help_panel=lessons.COMMANDS_PANEL,
                            help=lesson_voice.VOICE_HELP)(lesson_voice.lessons_voice)
app.command("voices", rich_help_panel=SETUP_PANEL,
            help="查看语音风格（如 湘、东北）和可用的中文声音。")(lessons.voices)
app.command("report", rich_help_panel=DAILY_PANEL, help=report.REPORT_HELP)(report.report)
app.command("backup", rich_help_panel=DAILY_PANEL, help=backup.BACKUP_HELP)(backup.backup)
app.command("restore", rich_help_panel=DAILY_PANEL, help=backup.RESTORE_HELP)(backup.restore)


def main() -> None:
    """Console entry point. Storage the database cannot give (a full disk, a server that is
    down) or a path that cannot be used ends any command with one line saying so; other
    faults keep their traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        app()
    except SQLAlchemyError as exc:
        if not is_storage_fault(exc):
            raise
        raise SystemExit(database_failed(exc).exit_code) from exc
    except OSError as exc:  # a folder a setting names that cannot be made or used
        if exc.filename is None:
            raise
        raise SystemExit(stop(texts.CLI_PATH_FAILED.format(
            path=exc.filename, error=os_reason(exc))).exit_code) from exc
