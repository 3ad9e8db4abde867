"""`yehua points …`: the village's points list, points given by hand, taking them back."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import texts
from bot.cli import points_export, shop
from bot.cli.kit import COMMANDS_PANEL, console, fail, find_group, load_cli_settings, say
from bot.cli.roles import GROUP_HELP, ROLE_WORDS
from bot.core.db import open_database, session
from bot.core.models import Group, PointsEntry, PointsItem, Role
from bot.domain.points import PointsRules
from bot.domain.points_items import (
    Giver,
    ItemFields,
    PointsError,
    add_item,
    change_words,
    edit_item,
    fields_of,
    find_item,
    find_person,
    give,
    item_name,
    revoke,
    village_items,
)
from bot.domain.villages import join_village, village_of

points_app = typer.Typer(help="积分：村里的积分清单，加分、扣分和撤销；积分超市；排名导出。",
                         no_args_is_help=True)
items_app = typer.Typer(help="积分清单：查看、添加、修改。", no_args_is_help=True)
points_app.add_typer(items_app, name="items", rich_help_panel=COMMANDS_PANEL)
shop.register(points_app)
points_app.command("export", help=texts.EXPORT_HELP)(points_export.export)

CLI_ID = "cli"  # who gave points from the command line
ROLE_HELP = "谁能给：facilitator（话事佬）、secretary（书记或文书）或 admin（管理员）"


def _open() -> tuple[Engine, PointsRules]:
    settings = load_cli_settings()
    rules = PointsRules.of(settings)
    return open_database(settings.db_url), rules


def _role(word: str) -> Role:
    role = ROLE_WORDS.get(word.strip().lower())
    if role is None:
        raise fail(texts.CLI_POINTS_BAD_ROLE.format(role=escape(word)))
    return role


def _cap(value: int | None) -> str:
    return str(value) if value is not None else texts.ADMIN_POINTS_NO_CAP


def _item(db: Session, group: Group, key: str, rules: PointsRules) -> PointsItem:
    """The item of the group's village numbered or named `key`."""
    for item in village_items(db, group, rules):
        if str(item.id) == key or item.name == key:
            return item
    raise fail(texts.POINTS_NO_SUCH_ITEM.format(
        words=key, names="、".join(item.name for item in village_items(db, group, rules))
        or texts.POINTS_LIST_EMPTY))


@items_app.command("list", rich_help_panel=COMMANDS_PANEL, help="查看一个群所在村的积分清单。")
def items_list(group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)]) -> None:
    """Show the village's points list."""
    engine, rules = _open()
    with session(engine) as db:
        chosen = find_group(db, group)
        items = village_items(db, chosen, rules)
        village = village_of(db, chosen).name
    table = Table(title=escape(texts.CLI_POINTS_ITEMS_TITLE.format(village=village)))
    for column in texts.CLI_POINTS_ITEMS_COLUMNS:
        table.add_column(column)
    for item in items:
        who = (texts.ADMIN_POINTS_AUTO if item.kind
               else texts.POINTS_ROLE_LABELS[item.award_role.value])
        table.add_row(str(item.id), escape(item.name), f"{item.points:+d}", who,
                      _cap(item.daily_cap), _cap(item.yearly_cap),
                      texts.CLI_POINTS_YES if item.needs_photo else texts.CLI_POINTS_NO,
                      texts.ADMIN_POINTS_ACTIVE if item.active else texts.ADMIN_POINTS_OFF)
    console.print(table)


@items_app.command(
    "add", rich_help_panel=COMMANDS_PANEL,
    help="在积分清单里加一项。扣分项写负数。\n\n"
         "例：yehua points items add 红十条 -g 枫树村大群 --points -10 --role secretary")
def items_add(
    name: Annotated[str, typer.Argument(help="名称，如：改厕")],
    group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)],
    points: Annotated[int, typer.Option(help="分值，扣分写负数")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)] = "facilitator",
    daily: Annotated[int | None, typer.Option(help="每人每天最多几次")] = None,
    yearly: Annotated[int | None, typer.Option(help="每人每年最多几次")] = None,
    photo: Annotated[bool, typer.Option("--photo", help="要照片为证")] = False,
) -> None:
    """Add an item to the village's list."""
    engine, _rules = _open()
    fields = ItemFields(name, points, _role(role), daily, yearly, photo)
    try:
        with session(engine) as db:
            item = add_item(db, find_group(db, group), fields)
            message = texts.CLI_POINTS_ITEM_ADDED.format(number=item.id, name=item.name,
                                                         change=change_words(item.points))
    except PointsError as exc:
        raise fail(str(exc)) from exc
    say(message)


@items_app.command(
    "edit", rich_help_panel=COMMANDS_PANEL,
    help="修改积分清单里的一项；以前给过的分不变。上限写 0 表示不限。\n\n"
         "例：yehua points items edit 改厕 -g 枫树村大群 --points 30")
def items_edit(
    item: Annotated[str, typer.Argument(help="编号或名称")],
    group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)],
    name: Annotated[str | None, typer.Option(help="新名称")] = None,
    points: Annotated[int | None, typer.Option(help="分值，扣分写负数")] = None,
    role: Annotated[str | None, typer.Option(help=ROLE_HELP)] = None,
    daily: Annotated[int | None, typer.Option(help="每人每天最多几次，0 为不限")] = None,
    yearly: Annotated[int | None, typer.Option(help="每人每年最多几次，0 为不限")] = None,
    photo: Annotated[bool | None, typer.Option("--photo/--no-photo", help="要不要照片")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="在用或停用")] = None,
) -> None:
    """Change an item of the village's list."""
    engine, rules = _open()
    try:
        with session(engine) as db:
            found = _item(db, find_group(db, group), item, rules)
            now = fields_of(found)
            fields = ItemFields(
                name if name is not None else now.name,
                points if points is not None else now.points,
                _role(role) if role is not None else now.award_role,
                now.daily_cap if daily is None else (daily or None),
                now.yearly_cap if yearly is None else (yearly or None),
                now.needs_photo if photo is None else photo)
            saved = edit_item(db, found, fields, active=active)
            message = texts.CLI_POINTS_ITEM_SAVED.format(number=saved.id, name=saved.name,
                                                         change=change_words(saved.points))
    except PointsError as exc:
        raise fail(str(exc)) from exc
    say(message)


@points_app.command(
    "award", rich_help_panel=COMMANDS_PANEL,
    help="按积分清单给一个人加分或扣分。\n\n"
         "例：yehua points award -g 枫树村大群 --user 张大爷 --item 改厕 --note 新修了化粪池")
def points_award(
    group: Annotated[str, typer.Option("--group", "-g", help=GROUP_HELP)],
    user: Annotated[str, typer.Option(help="用户编号或群里的名字")],
    item: Annotated[str, typer.Option(help="积分清单里的一项")],
    note: Annotated[str, typer.Option(help="理由")] = "",
    photo_seen: Annotated[bool, typer.Option("--photo-seen", help="看过照片了")] = False,
) -> None:
    """Give (or take) one item's points to one member."""
    engine, rules = _open()
    giver = Giver(CLI_ID, texts.CLI_POINTS_BY, Role.ADMIN)
    try:
        with session(engine) as db:
            chosen = find_group(db, group)
            assert chosen.id is not None, "a stored group has an id"
            member = find_person(db, chosen.id, user)
            found = find_item(db, chosen, item, rules)
            if found.needs_photo and not photo_seen:
                # The chat's way (the command sent with the photo) is no answer here.
                raise fail(texts.CLI_POINTS_PHOTO_NEEDED.format(item=found.name))
            entry = give(db, chosen, found, member, giver, note=note, photo_seen=photo_seen)
            message = texts.CLI_POINTS_GIVEN.format(name=member.display_name, item=found.name,
                                                    change=change_words(entry.points),
                                                    number=entry.id)
    except PointsError as exc:
        raise fail(str(exc)) from exc
    say(message)


@points_app.command(
    "revoke", rich_help_panel=COMMANDS_PANEL,
    help="撤销一条积分记录（记录留着，不再计分）。\n\n"
         "例：yehua points revoke 12 --reason 记错人了")
def points_revoke(
    number: Annotated[int, typer.Argument(help="积分记录的编号")],
    reason: Annotated[str, typer.Option(help="撤销的理由")],
) -> None:
    """Take an award back with a reason; its row stays."""
    engine, _rules = _open()
    try:
        with session(engine) as db:
            entry = db.get(PointsEntry, number) if 0 < number < 2**63 else None
            if entry is None:
                raise PointsError(texts.POINTS_ENTRY_NOT_FOUND.format(number=number))
            revoke(db, entry, by_name=texts.CLI_POINTS_BY, reason=reason)
            message = texts.CLI_POINTS_REVOKED.format(number=number, name=entry.user_name,
                                                      item=item_name(db, entry),
                                                      change=change_words(entry.points))
    except PointsError as exc:
        raise fail(str(exc)) from exc
    say(message)


@points_app.command(
    "village", rich_help_panel=COMMANDS_PANEL,
    help="把一个群并入另一个群所在的村，用同一份积分清单。\n\n"
         "例：yehua points village 枫树村QQ群 --join 枫树村大群")
def points_village(
    group: Annotated[str, typer.Argument(help=GROUP_HELP)],
    join: Annotated[str, typer.Option(help="并入这个群所在的村")],
) -> None:
    """Put a group into another group's village."""
    engine, _rules = _open()
    with session(engine) as db:
        chosen, other = find_group(db, group), find_group(db, join)
        if chosen.village_id is not None and chosen.village_id == other.village_id:
            say(texts.CLI_POINTS_SAME_VILLAGE.format(group=chosen.name, other=other.name),
                "yellow")
            return
        village = join_village(db, chosen, other)
        message = texts.CLI_POINTS_JOINED.format(group=chosen.name, village=village.name)
    say(message)
