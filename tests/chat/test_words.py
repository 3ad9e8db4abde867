"""The words members and secretaries read in the chat: one name per status, plain examples."""

from __future__ import annotations

import re

from bot.core.models import SuggestionStatus
from tests.support.app import RunningApp
from tests.support.village import SECRETARY, ZHANG, joined, suggestions

BARE_DECLINED = re.compile(r"(?<!暂)不采纳")


async def test_a_declined_suggestion_is_called_zan_bu_cai_na_from_command_to_my_list(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        await zhang.ask("建议 把广场舞的音响关小一点")
        help_text = await secretary.ask("帮助")
        usage = await secretary.ask("/暂不采纳")
        notice = await secretary.ask("/暂不采纳1 音响是村里统一管的，已转告")
        mine = await zhang.ask("我的建议")
    assert "/暂不采纳 号码 理由" in help_text and not BARE_DECLINED.search(help_text)
    assert usage == "暂不采纳请这样发：/暂不采纳 12 理由（12 是建议的号码）"
    assert "第 1 号建议（张大爷：把广场舞的音响关小一点）暂不采纳。理由：音响是村里" in notice
    assert "第 1 号【暂不采纳】把广场舞的音响关小一点" in mine
    [row] = suggestions(bot.app)
    assert row.status == SuggestionStatus.DECLINED


async def test_a_member_is_shown_how_to_raise_a_suggestion_without_a_plus(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        refused = await zhang.ask("/采纳 1")
        nothing_yet = await zhang.ask("我的建议")
        how = await zhang.ask("建议")
        help_text = await zhang.ask("帮助")
    example = "先说“建议”两个字，再说事，比如：建议 村口路灯坏了"
    assert refused.startswith("对不起，这个只有书记或文书才能用。") and example in refused
    assert example in nothing_yet and example in how
    assert all("+" not in text for text in (refused, nothing_yet, how, help_text))
    assert "下一次夜话（屋场会）的时间、地点、话题" in help_text
