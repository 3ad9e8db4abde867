"""`yehua points`: the village's points (积分) from the command line."""

from __future__ import annotations

import typer

from bot import texts
from bot.cli import points_export

points_app = typer.Typer(help="积分：排名和导出。", no_args_is_help=True)
points_app.command("export", help=texts.EXPORT_HELP)(points_export.export)
