"""A quiet group on QQ through OneBot: answers for one member go as private messages (a
temporary session from the group), else one @-line in the group; listening is tallied."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import PointsEntry
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp, running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, LI, ZHANG, prepare_qq_groups, said, with_onebot
from tests.support.quiet import post_lesson


async def say(napcat: FakeNapCat, bot: RunningApp, who: int, text: str, **sender: str) -> None:
    event = napcat.group_message(GROUP, who, said(text), **sender)
    assert (await napcat.post_event(bot.url, event))[0] == 204


def listens(bot: RunningApp) -> list[PointsEntry]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(PointsEntry).where(PointsEntry.reason == "listen")))


async def test_points_are_answered_in_a_temporary_session_from_the_group(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        await say(napcat, bot, ZHANG, "建议 村口路灯坏了", card="张大爷")
        await say(napcat, bot, ZHANG, "/积分", card="张大爷")
        await bot.app[SERVICES].replies.drain()
    answers = [s.text for s in napcat.to_user(ZHANG)]
    assert "第 1 号" in answers[0] and answers[1].startswith("张大爷，您一共有 2 分")
    calls = [params for action, params, _via in napcat.calls if action == "send_private_msg"]
    assert [(c["user_id"], c["group_id"]) for c in calls] == [(ZHANG, GROUP)] * 2
    assert napcat.in_group(GROUP) == []


async def test_where_qq_refuses_a_private_message_one_line_mentions_the_member_in_the_group(
        settings: Settings, napcat: FakeNapCat) -> None:
    napcat.no_private.add(LI)
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        for text in ("建议 东头水渠该清了", "建议 垃圾好几天没人收", "我的建议", "/采纳 1 好"):
            await say(napcat, bot, LI, text, nickname="李婶")
        await bot.app[SERVICES].replies.drain()
    acks, mine, refused = (napcat.in_group(GROUP)[:2], napcat.in_group(GROUP)[2],
                           napcat.in_group(GROUP)[3])
    assert ["第 1 号" in acks[0].text, "第 2 号" in acks[1].text] == [True, True]
    # /我的建议 lists every suggestion privately; in the group it is one line.
    assert mine.text.strip().startswith("您提过 2 条建议，最近的第 2 号") and "\n" not in mine.text
    assert mine.first("at") == {"qq": str(LI)} and mine.first("reply") is not None
    assert "对不起" in refused.text and "\n" not in refused.text
    assert napcat.to_user(LI) == [] and napcat.refused.count("private") == 4


async def test_three_hundred_listens_earn_points_and_the_group_gets_one_tally(
        settings: Settings, napcat: FakeNapCat) -> None:
    listeners = [ZHANG, *(400000000 + n for n in range(299))]
    fast = with_onebot(settings, napcat, YEHUA_ONEBOT_SENDS_PER_SECOND="200")
    async with running(fast, prepare_qq_groups) as bot:
        await post_lesson(bot.app, "onebot")
        lesson = len(napcat.in_group(GROUP))
        start = utcnow()
        for n, who in enumerate(listeners):
            await say(napcat, bot, who, "已听" if n % 2 else "听完了", card=f"村民{n}")
        assert len(listens(bot)) == 300  # stored before QQ was answered
        await bot.app[SERVICES].replies.drain(within=60)
        assert len(napcat.in_group(GROUP)) == lesson
        await bot.app[SCHEDULER].fire_timers(start + timedelta(minutes=6))
        tally = napcat.in_group(GROUP)[lesson:]
    assert len(tally) == 1 and "已有 300 位乡亲听完《" in tally[0].text
    assert len({s.user_id for s in napcat.sent if s.user_id}) == 300  # each thanked privately
