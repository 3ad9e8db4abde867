"""A quiet group on the web chat: answers for one member reach that member alone, and
listening is tallied now and then instead of answered in the group one by one."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from sqlalchemy import update
from sqlmodel import select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import LessonRecord
from bot.domain.tallies import TALLY_KIND
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, Timer
from tests.support.app import RunningApp, running
from tests.support.quiet import post_lesson, room_texts, tally_of
from tests.support.village import (
    LI,
    ROOM,
    ZHANG,
    deliver_event,
    event,
    joined,
    points_of,
    prepare_village,
)


def title(bot: RunningApp, delivery: Delivery) -> str:
    with session(bot.app[ENGINE]) as db:
        return db.exec(select(LessonRecord).where(
            LessonRecord.slug == delivery.lesson_slug)).one().title


async def history(bot: RunningApp, viewer: str | None = None) -> list[dict[str, object]]:
    headers = {"X-Yehua-User": viewer} if viewer else {}
    async with aiohttp.ClientSession() as http, http.get(
            f"{bot.url}/api/rooms/{ROOM}/messages", headers=headers) as response:
        assert response.status == 200
        page = await response.json()
    messages: list[dict[str, object]] = page["messages"]
    return messages


async def test_points_and_my_suggestions_are_shown_to_the_asker_alone(bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li:
        raised = await zhang.answer("建议 村口路灯坏了")
        points = await zhang.answer("/积分")
        mine = await zhang.answer("我的建议")
        # Li's socket never got Zhang's answers: the next bot message she sees is her own.
        own = await li.answer("积分")
    assert raised["private"] and "第 1 号" in str(raised["text"])
    assert points["private"] and str(points["text"]).startswith("张大爷，您一共有 2 分")
    assert mine["private"] and "您提过 1 条建议" in str(mine["text"])
    assert own["private"] and "李婶，您还没有积分" in str(own["text"])
    assert room_texts(bot.app) == []  # nothing in the group
    # The history shows each member's answers to that member only; the page to nobody.
    for_zhang = [m["text"] for m in await history(bot, ZHANG[0]) if m["from_bot"]]
    assert len(for_zhang) == 3 and "您提过 1 条建议" in str(for_zhang[2])
    assert [m["text"] for m in await history(bot, LI[0]) if m["from_bot"]] == [own["text"]]
    assert [m for m in await history(bot) if m["from_bot"]] == []
    async with aiohttp.ClientSession() as http, \
            http.get(f"{bot.url}/room/{ROOM}") as page:
        assert "您一共有" not in await page.text()


async def test_a_bad_viewer_id_is_refused_with_a_clear_error(bot: RunningApp) -> None:
    async with aiohttp.ClientSession() as http, http.get(
            f"{bot.url}/api/rooms/{ROOM}/messages", headers={"X-Yehua-User": "短"}) as response:
        assert response.status == 400
        assert "error" in await response.json()


async def test_a_member_using_a_secretary_command_is_refused_privately(bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li:
        refused = await zhang.answer("/采纳 1 好")
        own = await li.answer("/积分")
    assert refused["private"] and "对不起" in str(refused["text"])
    assert "对不起" not in str(own["text"])
    assert room_texts(bot.app) == []


async def test_three_hundred_listens_earn_points_at_once_and_the_group_hears_one_tally(
        bot: RunningApp) -> None:
    delivery = await post_lesson(bot.app, "web")
    lesson_posts = len(room_texts(bot.app))
    start = utcnow()
    listeners = [(f"user-listener-{n:04d}", f"村民{n}") for n in range(300)]
    for n, who in enumerate(listeners):
        await deliver_event(bot.app, event(who, f"l{n}", "已听" if n % 2 else "听完了"))
    assert all(points_of(bot.app, who[0]) == 1 for who in listeners)
    # Each listener was thanked privately; the group heard nothing yet.
    assert len(room_texts(bot.app, seen_by_all=False)) == 300
    assert len(room_texts(bot.app)) == lesson_posts

    await bot.app[SCHEDULER].fire_timers(start + timedelta(minutes=6))
    [tally_text] = room_texts(bot.app)[lesson_posts:]
    assert f"已有 300 位乡亲听完《{title(bot, delivery)}》" in tally_text
    # Five more come; their tally waits until half an hour after the last one.
    for n in range(300, 305):
        await deliver_event(bot.app, event((f"user-listener-{n:04d}", f"村民{n}"), f"l{n}",
                                           "已听"))
    await bot.app[SCHEDULER].fire_timers(start + timedelta(minutes=20))
    assert len(room_texts(bot.app)) == lesson_posts + 1
    await bot.app[SCHEDULER].fire_timers(start + timedelta(minutes=40))
    later = room_texts(bot.app)[lesson_posts:]
    assert len(later) == 2 and "已有 305 位乡亲听完" in later[1]
    tally = tally_of(bot.app, delivery.id or 0)
    assert tally is not None and tally.told_count == 305
    await bot.app[SERVICES].replies.drain()


async def test_a_restart_neither_repeats_a_tally_nor_hurries_the_next(
        settings: Settings) -> None:
    start = utcnow()
    async with running(settings, prepare_village) as first:
        delivery = await post_lesson(first.app, "web")
        lesson_posts = len(room_texts(first.app))
        for n in range(3):
            await deliver_event(first.app, event((f"user-listener-{n:04d}", f"村民{n}"),
                                                 f"l{n}", "已听"))
        await first.app[SCHEDULER].fire_timers(start + timedelta(minutes=6))
        assert len(room_texts(first.app)) == lesson_posts + 1
    with session(first.app[ENGINE]) as db:
        # As if the bot died after posting the tally, before marking its timer done.
        db.exec(update(Timer).where(Timer.kind == TALLY_KIND).values(status="running"))
    async with running(settings) as second:
        await second.app[SERVICES].replies.drain()
        assert len(room_texts(second.app)) == lesson_posts + 1  # resumed, not posted again
        await deliver_event(second.app, event(ZHANG, "z1", "已听"))
        await second.app[SCHEDULER].fire_timers(start + timedelta(minutes=15))
        assert len(room_texts(second.app)) == lesson_posts + 1  # not within half an hour
        await second.app[SCHEDULER].fire_timers(start + timedelta(minutes=37))
        tallies = room_texts(second.app)[lesson_posts:]
    assert len(tallies) == 2
    assert "已有 3 位乡亲" in tallies[0] and "已有 4 位乡亲" in tallies[1]
    assert points_of(second.app, ZHANG[0]) == 1
    tally = tally_of(second.app, delivery.id or 0)
    assert tally is not None and tally.told_count == 4
