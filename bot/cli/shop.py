"""`yehua points goods …` and `yehua points redeem`: the points shop (积分超市) from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings, say
from bot.core.db import open_database, session
from bot.domain.handling import find_member_handler
from bot.domain.shop import ShopError, add_good, edit_good, find_good, goods, redeem
from bot.domain.shop_receipts import RECEIPT_KIND, receipt_ref
from bot.domain.suggestions import SuggestionError
from bot.domain.villages import village_id_of
from scheduler.dbtypes import utcnow
from scheduler.timers import add_timer

ACTOR = ("cli", "命令行")
GOODS_USAGE = ("用法：yehua points goods [list | add | edit] --group GROUP "
               "[--name 名字 --price 分 --stock 件数 --off/--on]")
GroupOption = Annotated[str, typer.Option("--group", "-g", help="群的编号、chat id 或群名")]


def goods_command(
    action: Annotated[str, typer.Argument(help="list、add 或 edit")] = "list",
    group_key: GroupOption = "",
    name: Annotated[str, typer.Option(help="商品名，如「洗衣粉」")] = "",
    price: Annotated[int | None, typer.Option(help="价格：换一件要几分")] = None,
    stock: Annotated[int | None, typer.Option(help="库存：还有几件")] = None,
    active: Annotated[bool | None, typer.Option("--on/--off", help="上架或下架")] = None,
) -> None:
    """List the village's goods, or add or edit one."""
    # A name or a price with no add/edit before it would otherwise just list, the good never
    # added: refused with the usage instead.
    changes = bool(name) or price is not None or stock is not None or active is not None
    if action not in ("list", "add", "edit") or not group_key or (
            action != "list" and not name) or (action == "add" and price is None) or (
            action == "list" and changes):
        raise fail(GOODS_USAGE)
    settings = load_cli_settings()
    with session(open_database(settings.db_url)) as db:
        village = village_id_of(db, find_group(db, group_key))
        try:
            if action == "add":
                assert price is not None
                good = add_good(db, village, name, price=price, stock=stock or 0)
                say(texts.ADMIN_SHOP_ADDED.format(name=good.name))
                return
            if action == "edit":
                good = edit_good(db, find_good(db, village, name), price=price, stock=stock,
                                 active=active)
                say(texts.ADMIN_SHOP_SAVED.format(name=good.name))
                return
        except ShopError as exc:
            raise fail(str(exc)) from exc
        rows = goods(db, village)
    if not rows:
        say(texts.SHOP_NO_GOODS, "yellow")
        return
    table = Table(title=texts.ADMIN_SHOP_TITLE)
    for column in (texts.ADMIN_SHOP_NAME, texts.ADMIN_SHOP_PRICE, texts.ADMIN_SHOP_STOCK,
                   texts.CLI_SHOP_STATE):
        table.add_column(column)
    for good in rows:
        table.add_row(escape(good.name), str(good.price), str(good.stock),
                      texts.CLI_SHOP_ON if good.active else texts.ADMIN_SHOP_OFF)
    console.print(table)


def redeem_command(
    group_key: GroupOption,
    user: Annotated[str, typer.Option(help="兑换人：用户编号或群里的名字")],
    good: Annotated[str, typer.Option(help="商品名")],
    quantity: Annotated[int, typer.Option(help="数量")] = 1,
) -> None:
    """Record that a member takes goods for points; the running bot sends their receipt."""
    settings = load_cli_settings()
    with session(open_database(settings.db_url)) as db:
        group = find_group(db, group_key)
        assert group.id is not None
        try:
            member = find_member_handler(db, group.id, user, missing=texts.SHOP_WHO_MISSING,
                                         unknown=texts.CLI_SHOP_NO_SUCH_MEMBER,
                                         several=texts.CLI_SUG_WHICH_MEMBER)
            assert member.user_id is not None
            receipt = redeem(db, group, user_id=member.user_id, user_name=member.name,
                             good_name=good, quantity=quantity, by_id=ACTOR[0],
                             by_name=ACTOR[1])
        except (ShopError, SuggestionError) as exc:
            raise fail(str(exc)) from exc
        add_timer(db, RECEIPT_KIND, receipt_ref(receipt.redemption_id), utcnow())
    say(receipt.confirmation())
    say(texts.CLI_SHOP_RECEIPT_LATER.format(member=receipt.member), "cyan")


def register(points_app: typer.Typer) -> None:
    """Add `goods` and `redeem` to `yehua points`."""
    points_app.command(
        "goods", rich_help_panel=COMMANDS_PANEL,
        help="积分超市的商品：查看、添加、改价格库存或下架。\n\n"
             "例：yehua points goods add --group 雨坛村大群 --name 洗衣粉 --price 30 "
             "--stock 20\n\n"
             "　　yehua points goods edit --group 雨坛村大群 --name 洗衣粉 --stock 50\n\n"
             "　　yehua points goods edit --group 雨坛村大群 --name 洗衣粉 --off")(goods_command)
    points_app.command(
        "redeem", rich_help_panel=COMMANDS_PANEL,
        help="记一笔积分兑换：余额和库存不够就不记。\n\n"
             "例：yehua points redeem --group 雨坛村大群 --user 王奶奶 --good 洗衣粉 "
             "--quantity 2")(redeem_command)
