"""A quiet group: lessons posted to any platform's groups, and what the bot said where."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import ChatMessage, Group, ListenTally
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.polling import eventually


async def post_lesson(app: web.Application, platform: str, slug: str = "telecom-fraud"
                      ) -> Delivery:
    """Post a lesson to every group on `platform` now; the delivery once it is sent."""
    with session(app[ENGINE]) as db:
        targets = db.exec(select(Group).where(Group.platform == platform)).all()
        add_schedule(db, slug, [(g.id or 0, g.timezone) for g in targets], run_at=utcnow())
    await app[SCHEDULER].run_due()

    def sent() -> Delivery | None:
        with session(app[ENGINE]) as db:
            return db.exec(select(Delivery).where(Delivery.lesson_slug == slug,
                                                  Delivery.status == DeliveryStatus.SENT)
                           ).first()

    delivery: Delivery = await eventually(sent)
    return delivery


def room_texts(app: web.Application, *, seen_by_all: bool = True) -> list[str]:
    """The bot's texts in the web rooms: those everyone sees, or those for one member alone."""
    with session(app[ENGINE]) as db:
        recipient = col(ChatMessage.recipient_id)
        rows = db.exec(select(ChatMessage).where(
            col(ChatMessage.from_bot), recipient.is_(None) if seen_by_all
            else recipient.is_not(None)).order_by(col(ChatMessage.id)))
        return [row.text for row in rows]


def tally_of(app: web.Application, delivery_id: int) -> ListenTally | None:
    with session(app[ENGINE]) as db:
        return db.get(ListenTally, delivery_id)
