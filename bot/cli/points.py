"""`yehua points …`: the village's points from a terminal."""

from __future__ import annotations

import typer

from bot import texts
from bot.cli import points_export, shop

points_app = typer.Typer(help="积分：积分超市的商品和兑换，积分排名的导出。", no_args_is_help=True)
shop.register(points_app)
points_app.command("export", help=texts.EXPORT_HELP)(points_export.export)
