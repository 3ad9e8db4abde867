"""Points given by hand in the web chat: /加分, /扣分 from the village's list, /撤销积分."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
from aiohttp import FormData
from sqlmodel import select

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import Group
from bot.domain.points_items import ItemFields, edit_item, fields_of, set_active, village_items
from tests.support.app import RunningApp
from tests.support.photos import picture
from tests.support.points_list import FRAUD_APP, NOTICE, RED_TEN, TOILET, add_items, entries
from tests.support.village import (
    FACILITATOR,
    LI,
    ROOM,
    SECRETARY,
    ZHANG,
    deliver_event,
    event,
    joined,
    points_of,
)


async def test_a_facilitator_awards_an_item_and_the_member_is_told_alone(
        bot: RunningApp) -> None:
    add_items(bot.app[ENGINE], ROOM, TOILET)
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, FACILITATOR) as libo:
        await zhang.say("大家好")
        answer = await libo.answer("/加分 张大爷 改厕 自家厕所改好了")
        assert answer["private"]
        assert "已给张大爷记「改厕」，加 20 分" in str(answer["text"])
        told = await zhang.sees("您因「改厕」得了 20 分")
        assert "自家厕所改好了" in told
    [entry] = entries(bot.app)
    assert (entry.user_id, entry.points, entry.note, entry.by_id, entry.by_name) == (
        ZHANG[0], 20, "自家厕所改好了", FACILITATOR[0], FACILITATOR[1])
    assert entry.item_id is not None


async def test_a_secretary_deducts_and_revokes_with_a_reason_and_the_row_stays(
        bot: RunningApp) -> None:
    add_items(bot.app[ENGINE], ROOM, RED_TEN, TOILET)
    async with joined(bot.url, LI) as li, joined(bot.url, SECRETARY) as secretary:
        await li.say("我来了")
        answer = await secretary.ask("/扣分 李婶 红十条 乱倒垃圾")
        assert "已给李婶记「红十条」，扣 10 分" in answer
        assert "被扣了 10 分" in await li.sees("红十条")
        assert points_of(bot.app, LI[0]) == -10
        assert "是加分项，请用 /加分" in await secretary.ask("/扣分 李婶 改厕")
        [entry] = entries(bot.app)
        assert "已撤销" in await secretary.ask(f"/撤销积分 {entry.id} 记错人了")
        assert "原因：记错人了" in await li.sees("已撤销")
        assert "撤销过了" in await secretary.ask(f"/撤销积分 {entry.id} 再撤一次")
        assert "要写上理由" in await secretary.ask(f"/撤销积分 {entry.id}")
    [entry] = entries(bot.app)
    assert entry.points == -10 and entry.revoked_at is not None
    assert (entry.revoked_by_name, entry.revoke_reason) == (SECRETARY[1], "记错人了")


async def test_an_unclear_name_or_item_asks_and_stores_nothing(bot: RunningApp) -> None:
    add_items(bot.app[ENGINE], ROOM, TOILET, ItemFields("改水", 5), ItemFields("门前三包", 3))
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, ("user-zhang-2", "张大妈")) as
                other, joined(bot.url, FACILITATOR) as libo):
        await zhang.say("在")
        await other.say("在")
        assert "叫「张」的有好几位：" in await libo.ask("/加分 张 改厕")
        assert "没找到「王五」" in await libo.ask("/加分 王五 改厕")
        assert "对得上好几项：改厕、改水" in await libo.ask("/加分 张大爷 改")
        assert "没有「修路」" in await libo.ask("/加分 张大爷 修路")
        assert "这样用" in await libo.ask("/加分 张大爷")
        assert "门前三包" in await libo.ask("/加分 张大爷 三包")
    assert [e.points for e in entries(bot.app)] == [3]


async def test_roles_caps_and_photos_are_kept_to(bot: RunningApp) -> None:
    add_items(bot.app[ENGINE], ROOM, RED_TEN, TOILET, NOTICE, FRAUD_APP)
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, FACILITATOR) as libo:
        await zhang.say("在")
        assert "只有书记或文书才能给" in await libo.ask("/扣分 张大爷 红十条")
        assert "对不起" in await zhang.ask("/加分 张大爷 改厕")  # a member gives nothing
        assert "加 20 分" in await libo.ask("/加分 张大爷 改厕")
        assert "今年的「改厕」已经记满 1 次" in await libo.ask("/加分 张大爷 改厕")
        assert "加 1 分" in await libo.ask("/加分 张大爷 读通知")
        assert "加 1 分" in await libo.ask("/加分 张大爷 读通知")
        assert "今天的「读通知」已经记满 2 次" in await libo.ask("/加分 张大爷 读通知")
        assert "要有照片为证" in await libo.ask("/加分 张大爷 反诈")
    assert points_of(bot.app, ZHANG[0]) == 22
    # Replying to the photo's message stands for the photo.
    await deliver_event(bot.app, event(FACILITATOR, "m-photo-1", "/加分 张大爷 反诈",
                                       reply_to="m-photo-0"))
    assert points_of(bot.app, ZHANG[0]) == 27


async def test_a_revoked_award_no_longer_fills_the_cap(bot: RunningApp) -> None:
    add_items(bot.app[ENGINE], ROOM, TOILET)
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary):
        await zhang.say("在")
        await secretary.ask("/加分 张大爷 改厕")
        [entry] = entries(bot.app)
        await secretary.ask(f"/撤销积分 {entry.id} 重复了")
        assert "加 20 分" in await secretary.ask("/加分 张大爷 改厕")
    assert points_of(bot.app, ZHANG[0]) == 40  # both rows stay; the first no longer counts
    assert [e.revoked_at is None for e in entries(bot.app)] == [False, True]


async def test_the_bots_own_awards_follow_the_villages_list_and_keep_what_was_given(
        bot: RunningApp) -> None:
    rules = bot.app[SERVICES].rules
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
        suggest, adopted = (next(i for i in village_items(db, group, rules) if i.kind == kind)
                            for kind in ("suggest", "adopted"))
        edit_item(db, suggest, replace(fields_of(suggest), points=4))
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        assert "第 1 号" in await zhang.ask("建议 村口路灯坏了")
        with session(bot.app[ENGINE]) as db:
            edit_item(db, suggest, replace(fields_of(suggest), points=9))
            set_active(db, adopted, False)
        await secretary.say("/采纳 1 好")
        await zhang.sees("已采纳")
        assert "第 2 号" in await zhang.ask("建议 东头水渠该清了")
    # The first keeps its 4, the next gets 9; adoption, switched off, gives nothing.
    assert [(e.reason, e.points, e.item_id) for e in entries(bot.app)] == [
        ("suggest", 4, suggest.id), ("suggest", 9, suggest.id)]
    assert points_of(bot.app, ZHANG[0]) == 13


async def test_an_item_that_needs_a_photo_is_given_with_the_photo(bot: RunningApp) -> None:
    add_items(bot.app[ENGINE], ROOM, FRAUD_APP)
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, FACILITATOR) as libo:
        await zhang.say("在")
        assert "要有照片为证" in await libo.ask("/加分 张大爷 反诈")
        form = FormData()
        for name, value in (("user_id", FACILITATOR[0]), ("name", FACILITATOR[1]),
                            ("text", "/加分 张大爷 反诈 帮他装好了")):
            form.add_field(name, value)
        form.add_field("photo", picture(800, 600), filename="IMG_0002.jpg",
                       content_type="image/jpeg")
        async with aiohttp.ClientSession() as http, \
                http.post(f"{bot.url}/api/rooms/{ROOM}/photo", data=form) as response:
            assert response.status == 201
        assert "得了 5 分" in await zhang.sees("注册国家反诈APP")
    assert [(e.points, e.note) for e in entries(bot.app)] == [(5, "帮他装好了")]
