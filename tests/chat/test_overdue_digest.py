"""Overdue items: marked in /我的待办, and one private morning digest to handler and secretary."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import ChatMessage
from bot.domain.handling import DIGEST_KIND
from bot.settings import Settings
from scheduler.models import Timer
from tests.support.app import RunningApp, running
from tests.support.village import (
    FACILITATOR,
    SECRETARY,
    ZHANG,
    deliver_event,
    event,
    joined,
    prepare_village,
)

DIGEST_WORDS = "过了期限还没办结"


def digests_to(bot: RunningApp) -> list[tuple[str | None, str]]:
    """(recipient, text) of every digest the bot put in the room; None: seen by everyone."""
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))
                       .order_by(col(ChatMessage.id)))
        return [(row.recipient_id, row.text) for row in rows if DIGEST_WORDS in row.text]


def pending_digest(bot: RunningApp) -> datetime:
    with session(bot.app[ENGINE]) as db:
        timer = db.exec(select(Timer).where(Timer.kind == DIGEST_KIND,
                                            Timer.status == "pending")).one()
        return timer.due_at


async def morning(bot: RunningApp) -> datetime:
    """Move the bot's clock to the next digest's 08:30 and let the timer fire."""
    at = pending_digest(bot) + timedelta(minutes=1)
    bot.app[SERVICES].clock = lambda: at
    await bot.app[SCHEDULER].fire_timers(at)
    await bot.app[SERVICES].replies.drain()
    return at


async def assign_due_tomorrow(bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        await zhang.ask("建议 村口路灯坏了")
        await secretary.say("/采纳 1 交给 李伯 明天 好")
        await secretary.sees("已交给 李伯 办")


async def test_an_overdue_item_is_marked_and_digested_once_to_handler_and_secretary(
        bot: RunningApp) -> None:
    await assign_due_tomorrow(bot)
    # Mornings pass; until the deadline's day has ended, no digest is sent.
    for _ in range(3):
        if digests_to(bot):
            break
        await morning(bot)
    sent = digests_to(bot)
    assert sorted(recipient or "" for recipient, _text in sent) == sorted(
        [FACILITATOR[0], SECRETARY[0]])  # privately, never to the whole group
    handler_text = next(text for who, text in sent if who == FACILITATOR[0])
    secretary_text = next(text for who, text in sent if who == SECRETARY[0])
    assert "您有 1 件建议过了期限" in handler_text and "第 1 号：村口路灯坏了" in handler_text
    assert "「枫树村大群」有 1 件建议" in secretary_text and "李伯" in secretary_text
    # The same morning's timer cannot send it again; the next morning sends the next one.
    await bot.app[SCHEDULER].fire_timers(bot.app[SERVICES].clock())
    assert len(digests_to(bot)) == 2
    await deliver_event(bot.app, event(FACILITATOR, "todo-1", "我的待办"))
    with session(bot.app[ENGINE]) as db:
        todo = db.exec(select(ChatMessage).where(
            ChatMessage.recipient_id == FACILITATOR[0],
            col(ChatMessage.text).contains("您的待办"))).one()
    assert "第 1 号" in todo.text and "⚠已超期" in todo.text


async def test_a_digest_interrupted_by_a_crash_is_not_sent_twice_after_a_restart(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as first:
        await assign_due_tomorrow(first)
        for _ in range(3):
            if digests_to(first):
                break
            await morning(first)
        assert len(digests_to(first)) == 2
    with session(first.app[ENGINE]) as db:
        # As if the bot died after sending the digest, before marking its timer done.
        last = db.exec(select(Timer).where(Timer.kind == DIGEST_KIND, Timer.status == "fired")
                       .order_by(col(Timer.due_at).desc())).first()
        assert last is not None
        db.exec(update(Timer).where(col(Timer.id) == last.id).values(status="running"))
    async with running(settings) as second:
        await second.app[SCHEDULER].fire_timers()
        await second.app[SERVICES].replies.drain()
        assert len(digests_to(second)) == 2
        with session(second.app[ENGINE]) as db:
            waiting = db.exec(select(Timer).where(Timer.kind == DIGEST_KIND,
                                                  Timer.status == "pending")).all()
        assert len(waiting) == 1  # tomorrow's, once
