"""The `yehua` command: assembles every command group; with no command it runs the bot."""

from __future__ import annotations

import typer

from bot import texts
from bot.cli import groups, lessons, nighttalks, report, roles, schedule, users
from bot.cli.kit import DAILY_PANEL, SETUP_PANEL, console, load_cli_settings

app = typer.Typer(help="夜话：村里群聊的微党课、夜话和建议助手。\n\n"
                       "不写命令，直接运行 yehua，就是启动机器人（和 yehua run 一样）。",
                  no_args_is_help=False, add_completion=False)
app.add_typer(lessons.lessons_app, name="lessons", rich_help_panel=DAILY_PANEL)
app.add_typer(schedule.schedule_app, name="schedule", rich_help_panel=DAILY_PANEL)
app.add_typer(nighttalks.nighttalk_app, name="nighttalk", rich_help_panel=DAILY_PANEL)
app.add_typer(groups.groups_app, name="groups", rich_help_panel=SETUP_PANEL)
app.add_typer(roles.roles_app, name="roles", rich_help_panel=SETUP_PANEL)
app.add_typer(users.users_app, name="users", rich_help_panel=SETUP_PANEL)


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context) -> None:
    """With no command: start the bot."""
    if ctx.invoked_subcommand is None:
        run()


@app.command("run", rich_help_panel=DAILY_PANEL,
             help="启动机器人：网页群聊、定时推送、课程语音都开始工作，按 Ctrl+C 停止。")
def run() -> None:
    """Start the bot: web chat, scheduler, lessons."""
    from aiohttp import web

    from bot.app import create_app

    settings = load_cli_settings()
    application = create_app(settings)
    console.print(texts.CLI_STARTED.format(host=settings.host, port=settings.port))
    web.run_app(application, host=settings.host, port=settings.port, print=None,
                access_log=None)


app.command("voices", rich_help_panel=SETUP_PANEL,
            help="查看语音风格（如 湘、东北）和可用的中文声音。")(lessons.voices)
app.command("report", rich_help_panel=DAILY_PANEL, help=report.REPORT_HELP)(report.report)


def main() -> None:
    """Console entry point."""
    app()
