"""The bot on Telegram against the fake Bot API: people, settings and prepare hooks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from aiohttp import web
from sqlmodel import col, select

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import ENGINE, OUTBOX, SCHEDULER
from bot.core.db import session
from bot.core.models import Group, Suggestion
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery
from scheduler.schedules import add_schedule
from tests.support.fakes.telegram import FakeTelegram, Sent
from tests.support.polling import eventually

VILLAGE = -1001234567890
ZHANG: dict[str, Any] = {"id": 5123456789, "first_name": "张大爷"}
LI: dict[str, Any] = {"id": 6001002003, "first_name": "李婶", "username": "li_shen"}
SECRETARY: dict[str, Any] = {"id": 6001002009, "first_name": "王书记"}
HOST: dict[str, Any] = {"id": 6001002010, "first_name": "李伯"}
FAST = 0.05  # the fake's windows at 1/20 of Telegram's, so tests run quickly



def on_telegram(settings: Settings, fake: FakeTelegram, **extra: str) -> Settings:
    """Settings that switch Telegram on, pointed at the fake."""
    return replace(settings, extra={"YEHUA_TELEGRAM_TOKEN": fake.token,
                                    "YEHUA_TELEGRAM_API_BASE": fake.url,
                                    "YEHUA_TELEGRAM_POLL_TIMEOUT": "5", **extra})


def quick(app: web.Application) -> None:
    """A prepare hook: retries and the pieces of a long text paced for the scaled fake."""
    app[OUTBOX].backoff = 0.05
    adapter = telegram_of(app)
    adapter.backoff, adapter.piece_gap = 0.05, FAST


def groups(*chat_ids: int) -> Any:
    """A prepare hook: Telegram groups with these ids (the village by default), and `quick`."""

    def prepare(app: web.Application) -> None:
        with session(app[ENGINE]) as db:
            for n, chat_id in enumerate(chat_ids or (VILLAGE,)):
                db.add(Group(platform="telegram", chat_id=str(chat_id), name=f"村民{n}群"))
        quick(app)

    return prepare


def telegram_of(app: web.Application) -> TelegramAdapter:
    return cast(TelegramAdapter, app[OUTBOX].adapters["telegram"])


def stored(app: web.Application) -> list[Suggestion]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


def deliveries(app: web.Application) -> list[Delivery]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(Delivery).order_by(col(Delivery.id))))


async def post_lesson(app: web.Application, slug: str = "ebike-charging") -> None:
    """Schedule a lesson for every Telegram group now, and let the scheduler fire it."""
    with session(app[ENGINE]) as db:
        targets = db.exec(select(Group).where(Group.platform == "telegram")).all()
        add_schedule(db, slug, [(g.id or 0, g.timezone) for g in targets], run_at=utcnow())
    await app[SCHEDULER].run_due()


async def answer_to(fake: FakeTelegram, update: dict[str, Any], fragment: str = "") -> Sent:
    """The bot's text that replies to `update`'s message (containing `fragment`)."""
    message = update["message"]

    def found() -> Sent | None:
        return next((s for s in fake.to(message["chat"]["id"], "text")
                     if s.reply_to == message["message_id"] and fragment in s.text), None)

    return cast(Sent, await eventually(found))


def texts_with(fake: FakeTelegram, fragment: str, chat_id: int = VILLAGE) -> Sequence[Sent]:
    return [s for s in fake.to(chat_id, "text") if fragment in s.text]
