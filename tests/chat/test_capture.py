"""Capture through the real app on the web chat: suggestions however people start them, members'
commands as the bare word, and ordinary chat left alone."""

from __future__ import annotations

from itertools import count

from bot.core.models import SuggestionStatus
from tests.chat.test_phrasing import NOT_RAISED, RAISED
from tests.support.app import RunningApp
from tests.support.village import (
    FACILITATOR,
    LI,
    SECRETARY,
    ZHANG,
    bot_texts,
    deliver_event,
    event,
    suggestions,
)

_ids = count(1)


async def say(bot: RunningApp, who: tuple[str, str], text: str) -> list[str]:
    """What the bot posted in answer to `text`."""
    before = len(bot_texts(bot.app))
    await deliver_event(bot.app, event(who, f"capture-{next(_ids)}", text))
    return bot_texts(bot.app)[before:]


async def test_every_way_of_starting_a_suggestion_stores_it_and_answers_its_number(
    bot: RunningApp
) -> None:
    for number, (line, _body) in enumerate(RAISED, start=1):
        answer = await say(bot, ZHANG if number % 2 else LI, line)
        assert len(answer) == 1 and f"第 {number} 号" in answer[0], line
    assert [s.text for s in suggestions(bot.app)] == [body for _line, body in RAISED]


async def test_ordinary_chat_that_mentions_a_suggestion_or_a_command_gets_no_answer(
    bot: RunningApp
) -> None:
    for line in [*NOT_RAISED, "重听一下刚才那段", "我的建议书写好了", "积分怎么算的"]:
        assert await say(bot, ZHANG, line) == [], line
    assert suggestions(bot.app) == []


async def test_members_commands_work_as_the_bare_word_and_answer_as_with_the_slash(
    bot: RunningApp
) -> None:
    await say(bot, ZHANG, "建议 村口路灯坏了")
    for slash, bare in [("/积分", "积分"), ("/积分", "積分！"), ("/帮助", "帮助"),
                        ("/帮助", " 帮助。"), ("/我的建议", "我的建议"),
                        ("/我的建议", "我的建議?"), ("/重听", "重听")]:
        expected = await say(bot, ZHANG, slash)
        assert expected and await say(bot, ZHANG, bare) == expected, bare


async def test_facilitator_and_secretary_commands_need_the_slash(bot: RunningApp) -> None:
    await say(bot, ZHANG, "建议 村口路灯坏了")
    assert await say(bot, FACILITATOR, "开始夜话") == []
    assert await say(bot, SECRETARY, "采纳") == []
    assert await say(bot, SECRETARY, "不采纳") == []
    [row] = suggestions(bot.app)
    assert row.status == SuggestionStatus.NEW
