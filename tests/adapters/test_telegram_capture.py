"""Telegram through the fake Bot API: suggestions however members start them, bare commands,
plain chat left alone, and a voice outside a night talk offered as a suggestion."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.app import SERVICES
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.fakes.telegram import FakeTelegram
from tests.support.faults import FAST_BUSY_MS, write_lock
from tests.support.polling import eventually
from tests.support.recordings import recording
from tests.support.telegram import (
    LI,
    VILLAGE,
    ZHANG,
    answer_to,
    groups,
    on_telegram,
    stored,
    texts_with,
)

ASK = "要把这段语音记成建议吗？回「是」就记上。"


async def handled(bot: RunningApp, telegram: FakeTelegram, last: dict[str, Any]) -> None:
    """Wait until the bot has taken `last` (and so every update before it) and answered."""
    await eventually(lambda: max(telegram.offsets, default=0) > last["update_id"])
    await bot.app[SERVICES].replies.drain()


async def test_members_raise_suggestions_as_they_type_and_plain_chat_is_left_alone(
    settings: Settings, telegram: FakeTelegram
) -> None:
    lines = [(ZHANG, "建议村口修个路灯"), (LI, "我建议：把祠堂前的水沟盖上"),
             (ZHANG, "提个建议：垃圾车每周多来一趟"), (LI, "建議 河邊裝個護欄"),
             (ZHANG, "这个建议很好"), (LI, "他建议我明天去镇上"),
             (ZHANG, "积分怎么算的"), (LI, "我的建议书写好了")]
    async with running(on_telegram(settings, telegram), groups()) as bot:
        for who, text in lines:
            last = telegram.say(VILLAGE, who, text)
        await handled(bot, telegram, last)
        rows = stored(bot.app)
        answers = [sent.text for sent in telegram.to(VILLAGE, "text")]
    assert [(r.author_name, r.text) for r in rows] == [
        ("张大爷", "村口修个路灯"), ("李婶", "把祠堂前的水沟盖上"),
        ("张大爷", "垃圾车每周多来一趟"), ("李婶", "河邊裝個護欄")]
    assert len(answers) == 4  # one number each; the four remarks got no answer
    assert [f"第 {n} 号" in text for n, text in enumerate(answers, start=1)] == [True] * 4


async def test_bare_help_points_and_mine_answer_as_with_the_slash(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()):
        await answer_to(telegram, telegram.say(VILLAGE, ZHANG, "建议 村口路灯坏了"), "第 1 号")
        for slash, bare in [("/积分", "积分"), ("/帮助", "帮助。"), ("/我的建议", "我的建议")]:
            expected = (await answer_to(telegram, telegram.say(VILLAGE, ZHANG, slash))).text
            got = (await answer_to(telegram, telegram.say(VILLAGE, ZHANG, bare))).text
            assert got == expected, bare
        assert texts_with(telegram, "张大爷，您一共有")  # the points, asked both ways


async def test_a_voice_outside_a_talk_is_asked_about_and_yes_makes_it_a_suggestion(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        said = telegram.say_voice(VILLAGE, LI, recording(2.0, container="ogg"), duration=2)
        question = await answer_to(telegram, said, "记成建议")
        assert question.text == ASK and stored(bot.app) == []
        await handled(bot, telegram, telegram.say(VILLAGE, ZHANG, "是"))  # not his voice
        assert stored(bot.app) == []
        telegram.say(VILLAGE, LI, "是的")
        answer = await answer_to(telegram, said, "第 1 号")  # quotes the voice itself
        [row] = stored(bot.app)
    assert "语音建议" in answer.text
    assert row.author_name == "李婶" and row.voice_path is not None
    assert len(texts_with(telegram, "记成建议")) == 1


async def test_a_voice_the_database_cannot_take_is_asked_about_only_once_it_is_stored(
    settings: Settings, telegram: FakeTelegram
) -> None:
    slow = replace(settings, db_busy_timeout_ms=FAST_BUSY_MS)
    async with running(on_telegram(slow, telegram), groups()) as bot:
        await handled(bot, telegram, telegram.say(VILLAGE, LI, "大家好"))
        with write_lock(settings.data_dir / "yehua.db"):
            said = telegram.say_voice(VILLAGE, LI, recording(2.0, container="ogg"), duration=2)
            update_id = said["update_id"]
            # Not confirmed, so Telegram hands it over again; and nobody was asked anything.
            await eventually(lambda: telegram.offsets.count(update_id) >= 3)
            assert texts_with(telegram, "记成建议") == []
        await answer_to(telegram, said, "记成建议")
        await handled(bot, telegram, telegram.say(VILLAGE, LI, "是"))
        [row] = stored(bot.app)
    assert row.voice_path is not None
    assert len(texts_with(telegram, "记成建议")) == 1
