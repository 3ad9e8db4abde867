"""Night talks in the chat: /夜话, open and close by command, replies and voice as suggestions."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import ENGINE, SETTINGS
from bot.core.db import session
from bot.core.models import Group, NightTalk, NightTalkStatus
from bot.domain.nighttalks import schedule_night_talk
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp
from tests.support.village import (
    FACILITATOR,
    LI,
    ZHANG,
    deliver_event,
    event,
    joined,
    suggestions,
)


def schedule_talk(bot: RunningApp, hours_ahead: float = 24) -> int:
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group)).one()
        talk = schedule_night_talk(db, group=group, topic="修路",
                                   starts_at=utcnow() + timedelta(hours=hours_ahead),
                                   place="枫树屋场", host="李伯")
        assert talk.id is not None
        return talk.id


def the_talk(bot: RunningApp, talk_id: int) -> NightTalk:
    with session(bot.app[ENGINE]) as db:
        talk = db.get(NightTalk, talk_id)
        assert talk is not None
        return talk


async def test_next_night_talk_tells_when_where_topic_and_host(bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        assert "最近还没有安排夜话" in await zhang.ask("/夜话")
        schedule_talk(bot)
        answer = await zhang.ask("/nighttalk")
    lines = answer.splitlines()
    assert lines[0] == "下一次夜话："
    assert lines[1].startswith("时间：") and "星期" in lines[1]
    assert lines[2:5] == ["地点：枫树屋场", "话题：修路", "主持：李伯"]


async def test_a_night_talk_opened_and_closed_by_command_collects_replies_and_voice(
    bot: RunningApp
) -> None:
    talk_id = schedule_talk(bot)
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li,
                joined(bot.url, FACILITATOR) as facilitator):
        assert "对不起" in await zhang.ask("/开始夜话")
        assert the_talk(bot, talk_id).status == NightTalkStatus.SCHEDULED
        await facilitator.say("/开始夜话")
        await li.sees("夜话开始")
        assert "夜话正在进行" in await li.ask("/夜话")
        assert "已经开始" in await facilitator.ask("/开始夜话")
        opening = the_talk(bot, talk_id).open_message_id
        assert opening is not None

        await zhang.ask("建议 东头的路坑太多")
        await deliver_event(bot.app, event(LI, "li-reply", "路边要装护栏", reply_to=opening))
        await li.sees("第 2 号")
        voice = bot.app[SETTINGS].audio_dir / "0123456789abcdef0123.mp3"
        await deliver_event(bot.app, event(ZHANG, "zhang-voice", "", voice=voice))
        await zhang.sees("收到您的语音建议，记下了，是第 3 号")
        await deliver_event(bot.app, event(LI, "li-chat", "今天好冷", reply_to="some-other"))

        assert "对不起" in await zhang.ask("/结束夜话")
        await facilitator.say("/结束夜话")
        summary = await li.sees("夜话结束")
        assert "没有正在进行的夜话" in await facilitator.ask("/close_talk")

    assert the_talk(bot, talk_id).status == NightTalkStatus.CLOSED
    rows = suggestions(bot.app)
    assert [(s.author_name, s.text, s.night_talk_id) for s in rows] == [
        ("张大爷", "东头的路坑太多", talk_id), ("李婶", "路边要装护栏", talk_id),
        ("张大爷", "", talk_id)]
    assert rows[2].voice_path == str(voice)
    assert "共收到 3 条建议" in summary
    assert "东头的路坑太多（张大爷" in summary and "路边要装护栏（李婶" in summary


async def test_a_reply_to_the_opening_message_after_the_talk_closed_is_just_chat(
    bot: RunningApp
) -> None:
    talk_id = schedule_talk(bot)
    async with joined(bot.url, FACILITATOR) as facilitator:
        await facilitator.say("/开始夜话")
        await facilitator.sees("夜话开始")
        await facilitator.say("/结束夜话")
        await facilitator.sees("夜话结束")
    opening = the_talk(bot, talk_id).open_message_id
    await deliver_event(bot.app, event(ZHANG, "late", "我也说一句", reply_to=opening))
    assert suggestions(bot.app) == []
