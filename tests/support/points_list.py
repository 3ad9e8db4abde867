"""The village's points list in tests: items added the way the console adds them."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group, PointsEntry, Role
from bot.domain.points_items import ItemFields, add_item


def add_items(engine: Engine, chat_id: str, *fields: ItemFields) -> list[int]:
    """Put items on the list of the village of the group with `chat_id`; their ids."""
    with session(engine) as db:
        group = db.exec(select(Group).where(Group.chat_id == chat_id)).one()
        ids = [add_item(db, group, f).id for f in fields]
    return [i for i in ids if i is not None]


def entries(app: web.Application) -> list[PointsEntry]:
    """Every points entry, oldest first."""
    with session(app[ENGINE]) as db:
        return list(db.exec(select(PointsEntry).order_by(col(PointsEntry.id))))


TOILET = ItemFields("改厕", 20, Role.FACILITATOR, yearly_cap=1)
RED_TEN = ItemFields("红十条", -10, Role.SECRETARY)
NOTICE = ItemFields("读通知", 1, Role.FACILITATOR, daily_cap=2)
FRAUD_APP = ItemFields("注册国家反诈APP", 5, Role.FACILITATOR, needs_photo=True)
