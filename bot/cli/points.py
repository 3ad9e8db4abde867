"""`yehua points …`: the village's points from a terminal."""

from __future__ import annotations

import typer

from bot.cli import shop

points_app = typer.Typer(help="积分：积分超市的商品和兑换。", no_args_is_help=True)
shop.register(points_app)
