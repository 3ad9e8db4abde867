"""A quiet group on Telegram: answers for one member go to them as a direct message once they
have started the bot, else as one short quoted line; listening is tallied, not answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import PointsEntry
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp, running
from tests.support.fakes.telegram import FakeTelegram
from tests.support.polling import eventually
from tests.support.quiet import post_lesson
from tests.support.telegram import LI, VILLAGE, ZHANG, answer_to, groups, on_telegram, stored


def direct(fake: FakeTelegram, user: dict[str, Any]) -> list[str]:
    """What the bot wrote to one person's private chat."""
    return [s.text for s in fake.to(int(user["id"]), "text")]


async def test_points_go_as_a_direct_message_to_a_member_who_started_the_bot(
        settings: Settings, telegram: FakeTelegram) -> None:
    telegram.start_bot(ZHANG)
    async with running(on_telegram(settings, telegram), groups()):
        telegram.say(VILLAGE, ZHANG, "建议 村口路灯坏了")
        telegram.say(VILLAGE, ZHANG, "/积分")
        said = await eventually(lambda: len(direct(telegram, ZHANG)) == 2
                                and direct(telegram, ZHANG))
    assert "第 1 号" in said[0]
    assert said[1].startswith("张大爷，您一共有 2 分")
    assert telegram.to(VILLAGE) == []  # nothing in the group


async def test_without_a_private_chat_the_answer_is_one_quoted_line_saying_once_how_to_start(
        settings: Settings, telegram: FakeTelegram) -> None:
    telegram.start_bot(ZHANG)
    telegram.block_bot(ZHANG)  # started once, then blocked the bot
    async with running(on_telegram(settings, telegram), groups()):
        first = await answer_to(telegram, telegram.say(VILLAGE, LI, "/积分"))
        second = await answer_to(telegram, telegram.say(VILLAGE, LI, "我的建议"))
        blocked = await answer_to(telegram, telegram.say(VILLAGE, ZHANG, "积分"))
    tried = {str(p["chat_id"]) for p in telegram.called("sendMessage")}
    assert {str(LI["id"]), str(ZHANG["id"])} <= tried  # each was tried privately first
    assert first.text == ("李婶，您还没有积分。听完微党课回一句“已听”，或者提个建议，都能加分。"
                          "（想让我私下回您，请点 @yehua_bot 发一句 /start。）")
    assert "\n" not in second.text and "还没有提过建议" in second.text
    assert "/start" not in second.text  # said once is enough
    assert "/start" in blocked.text and blocked.text.startswith("张大爷，您还没有积分")


async def test_a_member_using_a_secretary_command_is_refused_in_a_direct_message(
        settings: Settings, telegram: FakeTelegram) -> None:
    telegram.start_bot(LI)
    async with running(on_telegram(settings, telegram), groups()) as bot:
        telegram.say(VILLAGE, LI, "建议 东头水渠该清了")
        telegram.say(VILLAGE, LI, "/采纳 1 好")
        said = await eventually(lambda: len(direct(telegram, LI)) == 2 and direct(telegram, LI))
        [suggestion] = stored(bot.app)
    assert "对不起" in said[1] and "书记" in said[1]
    assert suggestion.status == "new"
    assert telegram.to(VILLAGE) == []


async def test_three_hundred_listens_earn_points_and_the_group_gets_one_tally(
        settings: Settings, telegram: FakeTelegram) -> None:
    telegram.start_bot(ZHANG)
    listeners = [ZHANG, *({"id": 7000000000 + n, "first_name": f"村民{n}"} for n in range(299))]
    async with running(on_telegram(settings, telegram), groups()) as bot:
        await post_lesson(bot.app, "telegram")
        lesson = len(telegram.to(VILLAGE))
        start = utcnow()
        for n, who in enumerate(listeners):
            telegram.say(VILLAGE, who, "已听" if n % 2 else "听完了")

        await eventually(lambda: len(stored_listens(bot)) == 300, within=60)
        await bot.app[SERVICES].replies.drain(within=60)
        assert len(telegram.to(VILLAGE)) == lesson  # nobody's listen was announced one by one
        await bot.app[SCHEDULER].fire_timers(start + timedelta(minutes=6))
        tally = await eventually(lambda: telegram.to(VILLAGE)[lesson:])
    assert len(tally) == 1 and "已有 300 位乡亲听完《" in tally[0].text
    # Zhang started the bot and was thanked privately; nobody else was written to.
    assert direct(telegram, ZHANG) == ["张大爷，您听完了，积分加 1 分。谢谢您！"]
    assert sum(len(telegram.to(int(w["id"]))) for w in listeners[1:]) == 0


def stored_listens(bot: RunningApp) -> list[PointsEntry]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(PointsEntry).where(PointsEntry.reason == "listen")))
