"""Scheduling a night talk from the chat: the facilitator sees what the bot read and confirms
before the group is told; repeating talks go on by themselves."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import ChatMessage, NightTalk, NightTalkStatus
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.village import (
    FACILITATOR,
    LI,
    ZHANG,
    bot_texts,
    joined,
    prepare_village,
)

VILLAGE = ZoneInfo("Asia/Shanghai")


def talks(bot: RunningApp) -> list[NightTalk]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(NightTalk).order_by(col(NightTalk.id))))


def asked_of(bot: RunningApp, fragment: str) -> list[str | None]:
    """Whom each bot message in the room containing `fragment` was shown to (None: everyone)."""
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot)).order_by(
            col(ChatMessage.id)))
        return [row.recipient_id for row in rows if fragment in row.text]


def announced(bot: RunningApp) -> list[str]:
    return [text for text in bot_texts(bot.app) if "【夜话预告】" in text]


def day_words(moment: datetime) -> str:
    local = moment.astimezone(VILLAGE)
    return f"{local.month}月{local.day}日"


async def test_a_past_or_unreadable_time_is_refused_and_nothing_is_announced(
    bot: RunningApp
) -> None:
    async with joined(bot.url, FACILITATOR) as host:
        refused = await host.ask("/安排夜话 昨晚7点 修路")
        assert "已经过去了" in refused and "晚上7点" in refused
        assert "已经过去了" in await host.ask("/安排夜话 前天19:30 修路")
        assert "没看懂" in await host.ask("/安排夜话 明晚 修路")
        assert "看不懂" in await host.ask("/安排夜话 每天晚上8点 修路")
        assert "没看懂" in await host.ask("/安排夜话 25:00 修路")
    assert talks(bot) == [] and announced(bot) == []


async def test_the_group_hears_nothing_until_the_facilitator_confirms(bot: RunningApp) -> None:
    tomorrow = datetime.now(VILLAGE) + timedelta(days=1)
    async with joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang:
        understood = await host.ask("/安排夜话 明天7点 村里修路 地点：枫树屋场")
        # A bare hour for a night talk is the evening's, said back in words to check.
        assert f"{day_words(tomorrow)}" in understood and "晚上7点" in understood
        assert "枫树屋场" in understood and "村里修路" in understood and "「确认」" in understood
        assert talks(bot)[0].status is NightTalkStatus.DRAFT
        # In the web chat the question is the host's alone.
        assert asked_of(bot, "「确认」") == [FACILITATOR[0]]
        assert "最近还没有安排夜话" in await zhang.ask("/夜话")
        await zhang.say("确认")  # a member's 确认 is only chat
        assert "对不起" in await zhang.ask("/确认")
        assert talks(bot)[0].status is NightTalkStatus.DRAFT
        assert announced(bot) == []

        await host.say("确认")
        assert "已经在群里发了预告" in await host.sees("已经在群里发了预告")
        notice = await zhang.sees("【夜话预告】")
        assert f"{day_words(tomorrow)}" in notice and "晚上7点" in notice
        assert "村里修路" in notice and "枫树屋场" in notice
        assert talks(bot)[0].status is NightTalkStatus.SCHEDULED
        assert "村里修路" in await zhang.ask("/夜话")
        # Nothing waits any more: a second 确认 is ordinary chat, and nothing is told twice.
        assert "没有等您确认" in await host.ask("/确认")
    assert len(announced(bot)) == 1


async def test_a_new_schedule_replaces_the_draft_and_cancel_drops_it(bot: RunningApp) -> None:
    async with joined(bot.url, FACILITATOR) as host, joined(bot.url, LI) as li:
        await host.ask("/安排夜话 明晚8点 修路")
        second = await host.ask("/安排夜话 下周三晚上8点 修水渠")
        assert "星期三" in second and "晚上8点" in second and "修水渠" in second
        await host.say("确认")
        await host.sees("已经在群里发了预告")
        notice = await li.sees("【夜话预告】")
        assert "修水渠" in notice and "星期三" in notice
        await host.ask("/安排夜话 后天晚上8点 垃圾怎么收")
        assert "不算了" in await host.ask("取消")
        assert "没有等您确认" in await host.ask("/确认")
    assert [(t.topic, t.status) for t in talks(bot)] == [
        ("修路", NightTalkStatus.CANCELLED), ("修水渠", NightTalkStatus.SCHEDULED),
        ("垃圾怎么收", NightTalkStatus.CANCELLED)]
    assert len(announced(bot)) == 1


async def test_a_draft_left_a_day_unconfirmed_never_reaches_the_group(bot: RunningApp) -> None:
    async with joined(bot.url, FACILITATOR) as host:
        await host.ask("/安排夜话 下周三晚上8点 修路")
        with session(bot.app[ENGINE]) as db:
            talk = db.exec(select(NightTalk)).one()
            talk.created_at -= timedelta(days=1, minutes=1)  # written yesterday
            db.add(talk)
        assert "没有等您确认" in await host.ask("/确认")
    assert talks(bot)[0].status is NightTalkStatus.DRAFT and announced(bot) == []


async def test_a_weekly_talk_goes_on_with_its_reminders_and_one_can_be_called_off(
    settings: Settings
) -> None:
    async with running(replace(settings, grace_minutes=60), prepare_village) as bot, \
            joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang:
        scheduler = bot.app[SCHEDULER]
        understood = await host.ask("/安排夜话 每周五晚上7点半 村务公开")
        assert "每星期五 晚上7点半" in understood and "下一次是" in understood
        assert announced(bot) == []
        await host.say("确认")
        assert "以后每星期五 晚上7点半都开" in await host.sees("已经在群里发了预告")
        first_notice = await zhang.sees("【夜话预告】")
        [first] = talks(bot)
        assert first.starts_at.astimezone(VILLAGE).weekday() == 4
        assert day_words(first.starts_at) in first_notice
        assert "以后每星期五 晚上7点半都开" in first_notice  # the group learns it repeats
        shown = await zhang.ask("/夜话")
        assert "每星期五 晚上7点半都开" in shown and day_words(first.starts_at) in shown

        await scheduler.run_due(first.starts_at)
        await zhang.sees("【夜话开始】")
        await scheduler.run_due(first.ends_at)
        await zhang.sees("【夜话结束】")
        first, second = talks(bot)
        assert second.starts_at == first.starts_at + timedelta(days=7)
        assert second.status is NightTalkStatus.SCHEDULED

        await scheduler.run_due(second.starts_at - timedelta(days=3))
        assert day_words(second.starts_at) in await zhang.sees(day_words(second.starts_at))
        await scheduler.run_due(second.starts_at - timedelta(minutes=30))
        soon = await zhang.sees("还有半小时")
        assert "村务公开" in soon

        # Called off once: the group is told, and the week after stands.
        await host.say("/取消夜话")
        answer = await host.sees("下一次照常")
        third = talks(bot)[2]
        assert "下一次照常" in answer and day_words(third.starts_at) in answer
        off = await zhang.sees("【夜话取消】")
        assert day_words(second.starts_at) in off
        assert third.starts_at == second.starts_at + timedelta(days=7)
        assert day_words(third.starts_at) in await zhang.ask("/夜话")
        assert "对不起" in await zhang.ask("/取消夜话")  # members may not
        assert talks(bot)[2].status is NightTalkStatus.SCHEDULED

        await host.say("/取消夜话 全部")
        await host.sees("以后不开了")
        assert "最近还没有安排夜话" in await zhang.ask("/夜话")
    assert [t.status for t in talks(bot)] == [
        NightTalkStatus.CLOSED, NightTalkStatus.CANCELLED, NightTalkStatus.CANCELLED]
    assert len(announced(bot)) == 2
