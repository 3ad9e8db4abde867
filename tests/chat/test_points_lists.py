"""The village's points in the chat: the month-end list (with the year's on 31 December) posted
once in each group of the village, on the web chat and Telegram alike, and /积分 answered to the
member alone, or in one line where a platform cannot answer privately."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlmodel import select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import Group
from bot.domain.notices import ensure_leaderboard_timer, leaderboard_due
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support import dingtalk
from tests.support.app import running
from tests.support.builders import add_member
from tests.support.fakes.dingtalk import fake_dingtalk
from tests.support.fakes.telegram import FakeTelegram
from tests.support.points import add_household, add_item, give, make_village, redeem
from tests.support.points_list import entries
from tests.support.polling import eventually
from tests.support.quiet import room_texts
from tests.support.robots import add_group
from tests.support.telegram import LI as TG_LI
from tests.support.telegram import VILLAGE, groups, on_telegram
from tests.support.village import LI, ROOM, ZHANG, joined, prepare_village

YEAR = utcnow().year
ZONE = ZoneInfo("Asia/Shanghai")
DECEMBER = datetime(YEAR, 12, 2, 12, tzinfo=UTC)


def group_ids(app: web.Application) -> dict[str, int]:
    with session(app[ENGINE]) as db:
        return {g.chat_id: g.id or 0 for g in db.exec(select(Group))}


def web_and_telegram_village(app: web.Application) -> None:
    """The web room and a Telegram group make one village; points this December and in March."""
    prepare_village(app)
    groups()(app)
    ids = group_ids(app)
    web, telegram = ids[ROOM], ids[str(VILLAGE)]
    add_member(app[ENGINE], web, *ZHANG)
    village = make_village(app[ENGINE], "枫树村", [web, telegram])
    add_household(app[ENGINE], village, "张家", [ZHANG[0]])
    engine = app[ENGINE]
    give(engine, web, ZHANG, 20, datetime(YEAR, 3, 1, 12, tzinfo=UTC))
    give(engine, web, ZHANG, 5, DECEMBER)
    give(engine, telegram, (str(TG_LI["id"]), "李婶"), 3, DECEMBER + timedelta(hours=1))
    with session(engine) as db:
        for group in db.exec(select(Group)):
            ensure_leaderboard_timer(db, group, date(YEAR, 12, 1))


async def test_the_year_end_list_is_one_message_in_each_group_of_the_village(
        settings: Settings, telegram: FakeTelegram) -> None:
    one_each = replace(on_telegram(settings, telegram), points_top=1, points_bottom=1)
    async with running(one_each, web_and_telegram_village) as bot:
        due = leaderboard_due(date(YEAR, 12, 1), "Asia/Shanghai")
        await bot.app[SCHEDULER].fire_timers(due + timedelta(minutes=5))
        on_telegram_side = await eventually(lambda: [
            s.text for s in telegram.to(VILLAGE, "text") if "12月积分榜" in s.text])
        on_web = [text for text in room_texts(bot.app) if "12月积分榜" in text]
    expected = "\n".join([
        "【12月积分榜】谢谢大家这个月的参与！", "1. 张大爷  5 分", "户前 1 名：", "1. 张家  5 分",
        "个人后 1 名：", "2. 李婶  3 分", "",
        f"【{YEAR}年全年积分榜】一年辛苦了，谢谢大家！", "1. 张大爷  25 分", "户前 1 名：",
        "1. 张家  25 分", "个人后 1 名：", "2. 李婶  3 分",
        "听完微党课回一句“已听”、提建议、建议被采纳，都能加分。"])
    assert on_web == [expected]  # the village's list, once, in each of its groups
    assert on_telegram_side == [expected]


def earlier_today(minutes: int) -> datetime:
    """That many minutes ago, but never before this village day began: what is given now stays
    in the day and month /积分 is asked in, however soon after midnight the test runs."""
    now = utcnow()
    midnight = now.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - timedelta(minutes=minutes), midnight.astimezone(UTC))


def household_village(app: web.Application) -> None:
    """The web room as a village with two households; 张大爷 has a revoked deduction."""
    prepare_village(app)
    room = group_ids(app)[ROOM]
    for who in (ZHANG, LI):
        add_member(app[ENGINE], room, *who)
    village = make_village(app[ENGINE], "枫树村", [room])
    add_household(app[ENGINE], village, "张家", [ZHANG[0]])
    add_household(app[ENGINE], village, "李家", [LI[0]])
    toilet = add_item(app[ENGINE], village, "改厕", 10)
    rules = add_item(app[ENGINE], village, "红十条", -10)
    give(app[ENGINE], room, ZHANG, 10, earlier_today(30), item_id=toilet)
    give(app[ENGINE], room, ZHANG, -10, earlier_today(20), item_id=rules, revoked="弄错了")
    give(app[ENGINE], room, ZHANG, 1, earlier_today(10), reason="listen", by=None)
    give(app[ENGINE], room, LI, 20, earlier_today(5), item_id=toilet)
    redeem(app[ENGINE], village, room, ZHANG, "洗衣粉", 4, earlier_today(1))


async def test_my_points_shows_balance_ranks_household_and_last_changes_to_me_alone(
        settings: Settings) -> None:
    async with running(settings, household_village) as bot, joined(bot.url, ZHANG) as zhang:
        answer = await zhang.answer("/积分")
        room = room_texts(bot.app)
        # Each entry's day as stored, not today's: midnight may pass while the test runs.
        stored = {e.points: e.created_at.astimezone(settings.zone)
                  for e in entries(bot.app) if e.user_id == ZHANG[0]}
    day = {points: f"{at.month}月{at.day}日" for points, at in stored.items()}
    assert answer["private"]
    assert str(answer["text"]).splitlines() == [
        "张大爷，您一共有 7 分。",  # 11 earned, 4 spent in the shop
        "这个月在村里排第 2 名（共 2 人）。",
        "您家（张家）这个月排第 2 名（共 2 户）。",
        "最近：", f"{day[1]} 听微党课 加 1 分", f"{day[10]} 改厕 加 10 分"]  # not the revoked one
    assert room == []  # nothing said in the group


async def test_where_nothing_can_be_private_my_points_is_one_short_line(
        settings: Settings) -> None:
    def village(app: web.Application) -> None:
        add_group(app, "dingtalk", dingtalk.CHAT, ("secretary0001", "王书记"))
        group_id = group_ids(app)[dingtalk.CHAT]
        give(app[ENGINE], group_id, dingtalk.ZHANG, 3, earlier_today(5))

    async with fake_dingtalk() as fake:
        fake.add_robot(dingtalk.TOKEN, dingtalk.SECRET)
        on_dingtalk = replace(settings, extra={
            "YEHUA_DINGTALK_ROBOTS": f"{dingtalk.CHAT}:{dingtalk.TOKEN}:{dingtalk.SECRET}",
            "YEHUA_DINGTALK_APP_SECRET": dingtalk.APP_SECRET,
            "YEHUA_DINGTALK_API_BASE": fake.url})
        async with running(on_dingtalk, village) as bot:
            await fake.callback(bot.url, fake.at_message(dingtalk.CHAT, dingtalk.ZHANG, "/积分"),
                                app_secret=dingtalk.APP_SECRET)
            await bot.app[SERVICES].replies.drain()
            sent = fake.delivered(f"session:{dingtalk.CHAT}")
    assert [m["text"]["content"].removeprefix(f"@{dingtalk.ZHANG[0]} ") for m in sent] == [
        "张大爷，您一共有 3 分，这个月第 1 名。"]
