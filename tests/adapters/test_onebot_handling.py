"""Handlers on QQ through OneBot: assigned by @-mention, told in a private session, closing."""

from __future__ import annotations

from typing import Any

from bot.app import SERVICES
from bot.core.models import SuggestionStatus
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import (
    GROUP,
    LI,
    OWNER,
    ZHANG,
    prepare_qq_groups,
    said,
    stored,
    with_onebot,
)


async def post(napcat: FakeNapCat, bot: RunningApp, who: int,
               message: str | list[dict[str, Any]], **sender: str) -> None:
    segments = said(message) if isinstance(message, str) else message
    event = napcat.group_message(GROUP, who, segments, **sender)
    assert (await napcat.post_event(bot.url, event))[0] == 204
    await bot.app[SERVICES].replies.drain()


async def test_an_at_mentioned_member_is_told_privately_and_closes_the_item_with_a_result(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        await post(napcat, bot, ZHANG, "建议 村口路灯坏了", card="张大爷")
        await post(napcat, bot, LI, "我来看看", card="李婶")
        await post(napcat, bot, OWNER, [
            {"type": "text", "data": {"text": "/采纳 1 交给 "}},
            {"type": "at", "data": {"qq": str(LI)}},
            {"type": "text", "data": {"text": " 5天内 已列入计划"}}], role="owner", card="书记")
        told = [s.text for s in napcat.to_user(LI)]
        assert len(told) == 1
        assert "李婶，交给您一件事：第 1 号建议（张大爷：村口路灯坏了）" in told[0]
        assert not any("交给您" in s.text for s in napcat.in_group(GROUP))
        await post(napcat, bot, LI, "我的待办", card="李婶")
        assert "第 1 号：村口路灯坏了" in napcat.to_user(LI)[-1].text
        await post(napcat, bot, LI, "/办结 1", card="李婶")
        assert stored(bot.app)[0].status == SuggestionStatus.ADOPTED
        await post(napcat, bot, LI, "/办结 1 路灯换好了", card="李婶")
    [row] = stored(bot.app)
    assert row.status == SuggestionStatus.DONE and row.done_at is not None
    assert row.handler_user_id == str(LI)
    group = [s.text for s in napcat.in_group(GROUP)]
    assert any("要写上办理结果" in text for text in group + [s.text for s in napcat.to_user(LI)])
    assert any("已办结。办理结果：路灯换好了" in text for text in group)
