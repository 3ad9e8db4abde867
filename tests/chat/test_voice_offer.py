"""A voice message outside a night talk, through the real app on the web chat: the bot asks
whether it is a suggestion, and the member's 「是」 makes it one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.app import SERVICES
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.polling import eventually
from tests.support.village import (
    LI,
    ZHANG,
    bot_texts,
    deliver_event,
    event,
    joined,
    prepare_village,
    say_by_voice,
    suggestions,
)

ASK = "要把这段语音记成建议吗？回「是」就记上。"


async def asked(bot: RunningApp, count: int = 1) -> None:
    await eventually(lambda: bot_texts(bot.app).count(ASK) >= count)


async def test_a_voice_outside_a_talk_is_asked_about_and_the_members_yes_records_it(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        await say_by_voice(bot.url, ZHANG)
        assert await zhang.sees("记成建议") == ASK
        assert suggestions(bot.app) == []  # a voice may be chat: nothing is counted yet
        answer = await zhang.ask("是")
    assert "语音建议" in answer and "第 1 号" in answer
    [row] = suggestions(bot.app)
    assert row.author_name == "张大爷" and row.voice_path is not None
    assert await asyncio.to_thread(Path(row.voice_path).is_file)


async def test_yes_counts_only_from_the_member_asked_and_only_once(bot: RunningApp) -> None:
    await say_by_voice(bot.url, ZHANG)
    await asked(bot)
    async with joined(bot.url, LI) as li, joined(bot.url, ZHANG) as zhang:
        await li.say("好")  # 李婶 answers someone else: her 「好」 is plain chat
        assert await zhang.ask("是的。") != ASK
        await zhang.say("好")  # nothing waits any more: plain chat
        await li.say("记上")
        await zhang.say("收到")  # the last message, so the earlier ones are all handled
    await bot.app[SERVICES].replies.drain()
    assert len(suggestions(bot.app)) == 1
    assert sum("第 1 号" in text for text in bot_texts(bot.app)) == 1
    assert not any("第 2 号" in text for text in bot_texts(bot.app))


async def test_a_bare_yes_with_no_question_waiting_is_ordinary_chat(bot: RunningApp) -> None:
    before = len(bot_texts(bot.app))
    for n, line in enumerate(["是", "好的", "要", "记上吧"]):
        await deliver_event(bot.app, event(ZHANG, f"chat-{n}", line))
    assert bot_texts(bot.app)[before:] == [] and suggestions(bot.app) == []


async def test_clips_in_a_row_are_asked_about_once_and_each_becomes_a_suggestion(
    bot: RunningApp
) -> None:
    for _ in range(3):
        await say_by_voice(bot.url, ZHANG)
    await asked(bot)
    await deliver_event(bot.app, event(ZHANG, "yes-1", "好"))
    assert bot_texts(bot.app).count(ASK) == 1
    rows = suggestions(bot.app)
    assert len(rows) == 3 and all(row.voice_path for row in rows)
    assert len({row.voice_path for row in rows}) == 3
    # The same 「好」 delivered again by the platform stores nothing more.
    await deliver_event(bot.app, event(ZHANG, "yes-1", "好"))
    assert len(suggestions(bot.app)) == 3


async def test_the_question_expires_after_half_an_hour(bot: RunningApp) -> None:
    await say_by_voice(bot.url, ZHANG)
    await asked(bot)
    services = bot.app[SERVICES]
    later = services.clock() + timedelta(minutes=31)
    services.clock = lambda: later
    before = len(bot_texts(bot.app))
    await deliver_event(bot.app, event(ZHANG, "late-yes", "是"))
    assert suggestions(bot.app) == [] and bot_texts(bot.app)[before:] == []


async def test_the_question_survives_a_restart(settings: Settings) -> None:
    async with running(settings, prepare_village) as bot:
        await say_by_voice(bot.url, ZHANG)
        await asked(bot)
    async with running(settings) as bot:
        await deliver_event(bot.app, event(ZHANG, "yes-after-restart", "是"))
        [row] = suggestions(bot.app)
        assert row.voice_path is not None
        assert any("第 1 号" in text for text in bot_texts(bot.app))
