"""Points given by hand on QQ: the @-mention names the member, who is told in private."""

from __future__ import annotations

from typing import Any

from bot.app import ENGINE, SERVICES
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, LI, OWNER, ZHANG, prepare_qq_groups, said, with_onebot
from tests.support.points_list import RED_TEN, TOILET, add_items, entries


async def post(napcat: FakeNapCat, bot: RunningApp, who: int,
               message: str | list[dict[str, Any]], **sender: str) -> None:
    segments = said(message) if isinstance(message, str) else message
    event = napcat.group_message(GROUP, who, segments, **sender)
    assert (await napcat.post_event(bot.url, event))[0] == 204
    await bot.app[SERVICES].replies.drain()


async def test_an_at_mention_picks_the_member_even_where_the_name_would_not(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        add_items(bot.app[ENGINE], str(GROUP), TOILET, RED_TEN)
        await post(napcat, bot, ZHANG, "大家好", card="张大爷")
        await post(napcat, bot, LI, "大家好", card="张大妈")
        await post(napcat, bot, OWNER, [
            {"type": "text", "data": {"text": "/加分 "}},
            {"type": "at", "data": {"qq": str(ZHANG), "name": "张"}},
            {"type": "text", "data": {"text": " 改厕 新修了化粪池"}}], role="owner", card="书记")
        told = [s.text for s in napcat.to_user(ZHANG)]
        assert len(told) == 1 and "您因「改厕」得了 20 分" in told[0]
        assert any("已给张大爷记「改厕」，加 20 分" in s.text for s in napcat.to_user(OWNER))
        await post(napcat, bot, OWNER, "/扣分 张 红十条 乱倒垃圾", role="owner", card="书记")
        assert any("叫「张」的有好几位" in s.text for s in napcat.to_user(OWNER))
        await post(napcat, bot, OWNER, "/扣分 张大妈 红十条 乱倒垃圾", role="owner",
                   card="书记")
        assert "被扣了 10 分" in napcat.to_user(LI)[-1].text
    assert [(e.user_id, e.points, e.by_name) for e in entries(bot.app)] == [
        (str(ZHANG), 20, "书记"), (str(LI), -10, "书记")]
    assert not any("得了 20 分" in s.text for s in napcat.in_group(GROUP))
