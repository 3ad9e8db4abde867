"""On Telegram and QQ too: the host confirms a night talk before its group hears of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import NightTalk, NightTalkStatus
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.telegram import FakeTelegram, Sent
from tests.support.onebot import ADMIN, GROUP, ZHANG, prepare_qq_groups, said, with_onebot
from tests.support.polling import eventually
from tests.support.telegram import HOST, VILLAGE, groups, on_telegram, texts_with
from tests.support.telegram import ZHANG as TG_ZHANG

SHANGHAI = ZoneInfo("Asia/Shanghai")


def coming_wednesday() -> str:
    """下周三 in words: the Wednesday of next week, 「12月9日」."""
    today = datetime.now(SHANGHAI).date()
    day = today + timedelta(days=7 - today.weekday() + 2)
    return f"{day.month}月{day.day}日"


def told(fake: FakeTelegram, fragment: str) -> Sent | None:
    """A text the bot sent, in the group or to the host alone, containing `fragment`."""
    return next((s for s in fake.sent if s.kind == "text" and fragment in s.text), None)


def the_talk(app: object) -> NightTalk:
    with session(app[ENGINE]) as db:  # type: ignore[index]
        return db.exec(select(NightTalk)).one()


async def test_on_telegram_the_group_hears_of_the_talk_only_after_the_hosts_confirm(
    settings: Settings, telegram: FakeTelegram
) -> None:
    telegram.statuses[(VILLAGE, HOST["id"])] = "administrator"  # may host night talks
    async with running(on_telegram(settings, telegram), groups()) as bot:
        telegram.say(VILLAGE, HOST, "/安排夜话 下周三晚上8点 村里修路")
        understood = await eventually(lambda: told(telegram, "「确认」"))
        assert coming_wednesday() in understood.text and "星期三" in understood.text
        assert "晚上8点" in understood.text
        # A 确认 typed in a direct chat could not reach the group: the question is asked there,
        # quoting the host's message.
        assert understood.chat_id == VILLAGE and understood.reply_to is not None
        telegram.say(VILLAGE, TG_ZHANG, "确认")  # a member's word confirms nothing
        telegram.say(VILLAGE, HOST, "/安排夜话 昨晚7点 修路")
        refused = await eventually(lambda: told(telegram, "已经过去了"))
        assert "晚上7点" in refused.text
        assert texts_with(telegram, "【夜话预告】") == []
        assert the_talk(bot.app).status is NightTalkStatus.DRAFT

        telegram.say(VILLAGE, HOST, "确认")
        [notice] = await eventually(lambda: texts_with(telegram, "【夜话预告】"))
        assert coming_wednesday() in notice.text and "晚上8点" in notice.text
        assert the_talk(bot.app).status is NightTalkStatus.SCHEDULED


async def test_on_qq_the_group_hears_of_the_talk_only_after_the_hosts_confirm(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        async def say(user: int, text: str, role: str = "member") -> None:
            await napcat.post_event(bot.url, napcat.group_message(GROUP, user, said(text),
                                                                  role=role))
            await bot.app[SERVICES].replies.drain()

        await say(ADMIN, "/安排夜话 下周三 晚上8点 村里修路", role="admin")
        understood = await eventually(
            lambda: next((s for s in napcat.sent if "「确认」" in s.text), None))
        assert coming_wednesday() in understood.text and "晚上8点" in understood.text
        assert understood.user_id is None and understood.group_id == GROUP  # asked in the group
        await say(ZHANG, "确认")
        await say(ADMIN, "/安排夜话 前天19:30 修路", role="admin")
        await eventually(lambda: any("已经过去了" in s.text for s in napcat.sent))
        assert not any("【夜话预告】" in s.text for s in napcat.sent)

        await say(ADMIN, "确认", role="admin")
        notice = await eventually(
            lambda: next((s for s in napcat.in_group(GROUP) if "【夜话预告】" in s.text), None))
        assert coming_wednesday() in notice.text and "村里修路" in notice.text
        assert the_talk(bot.app).status is NightTalkStatus.SCHEDULED
