"""On Telegram and QQ too: members check in quietly during a night talk, the host counts who
came in person, and the closing summary says how many came."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import Group
from bot.domain.nighttalks import schedule_night_talk
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.telegram import FakeTelegram
from tests.support.onebot import ADMIN, GROUP, prepare_qq_groups, said, with_onebot
from tests.support.onebot import LI as QQ_LI
from tests.support.onebot import ZHANG as QQ_ZHANG
from tests.support.polling import eventually
from tests.support.telegram import (
    HOST,
    LI,
    VILLAGE,
    ZHANG,
    answer_to,
    groups,
    on_telegram,
    texts_with,
)


def direct(fake: FakeTelegram, user: dict[str, object]) -> list[str]:
    return [s.text for s in fake.to(int(str(user["id"])), "text")]


async def test_on_telegram_check_ins_are_quiet_and_the_summary_counts_who_came(
    settings: Settings, telegram: FakeTelegram
) -> None:
    telegram.statuses[(VILLAGE, HOST["id"])] = "administrator"  # may host night talks
    telegram.start_bot(ZHANG)
    async with running(on_telegram(settings, telegram), groups()) as bot:
        with session(bot.app[ENGINE]) as db:
            group = db.exec(select(Group)).one()
            schedule_night_talk(db, group=group, topic="修路", place="枫树屋场",
                                starts_at=utcnow() + timedelta(hours=2), host="李伯")
        telegram.say(VILLAGE, ZHANG, "到")  # no talk open yet: just chat
        telegram.say(VILLAGE, HOST, "/open_talk")
        await eventually(lambda: texts_with(telegram, "夜话开始"))
        telegram.say(VILLAGE, ZHANG, "到")
        telegram.say(VILLAGE, ZHANG, "签到")  # twice: counted once
        telegram.say(VILLAGE, LI, "到了")  # never started the bot: thanked nowhere
        await eventually(lambda: len(direct(telegram, ZHANG)) == 2)
        refused = await answer_to(telegram, telegram.say(VILLAGE, LI, "/到场 23人"))
        assert "话事佬" in refused.text
        counted = await answer_to(telegram, telegram.say(VILLAGE, HOST, "/到场 23人"))
        assert "到场 25 人（群里签到 2 人，现场 23 人）" in counted.text
        telegram.say(VILLAGE, HOST, "/close_talk")
        [summary] = await eventually(
            lambda: [s for s in telegram.to(VILLAGE, "text") if "夜话结束" in s.text])

    assert direct(telegram, ZHANG) == ["张大爷，签到好了，欢迎来夜话！",
                                       "张大爷，您已经签过到了。"]
    assert "到场 25 人（群里签到 2 人，现场 23 人）" in summary.text
    in_group = [s.text for s in telegram.to(VILLAGE, "text")]
    assert not any("签到好了" in text or "签过到" in text for text in in_group)


async def test_on_qq_check_ins_go_privately_and_the_summary_counts_who_came(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        async def say(user: int, text: str, role: str = "member") -> None:
            await napcat.post_event(bot.url, napcat.group_message(GROUP, user, said(text),
                                                                  role=role))
            await bot.app[SERVICES].replies.drain()

        with session(bot.app[ENGINE]) as db:
            group = db.exec(select(Group).where(Group.chat_id == str(GROUP))).one()
            schedule_night_talk(db, group=group, topic="修路",
                                starts_at=utcnow() + timedelta(hours=2))
        await say(ADMIN, "/开始夜话", role="admin")
        await eventually(lambda: [s for s in napcat.sent if "夜话开始" in s.text])
        await say(QQ_ZHANG, "到")
        await say(QQ_LI, "签到！")
        await say(QQ_ZHANG, "到了")
        await say(ADMIN, "/到场 10人", role="admin")
        await say(ADMIN, "/结束夜话", role="admin")
        summary = await eventually(
            lambda: next((s for s in napcat.sent if "夜话结束" in s.text), None))

    thanked = [(s.user_id, s.text.split("，", 1)[1]) for s in napcat.sent
               if s.user_id and ("欢迎来夜话" in s.text or "签过到" in s.text)]
    assert thanked == [(QQ_ZHANG, "签到好了，欢迎来夜话！"), (QQ_LI, "签到好了，欢迎来夜话！"),
                       (QQ_ZHANG, "您已经签过到了。")]
    assert summary.user_id is None
    assert "到场 12 人（群里签到 2 人，现场 10 人）" in summary.text
    in_group = [s.text for s in napcat.sent if s.user_id is None]
    assert not any("签到好了" in text or "签过到" in text for text in in_group)
