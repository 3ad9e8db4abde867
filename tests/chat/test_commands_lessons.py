"""Lessons and points in the chat: 已听, /积分, /重听, /课程 and the monthly leaderboard."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.app import ENGINE, OUTBOX, SCHEDULER, SETTINGS
from bot.core.db import session
from bot.core.models import ChatMessage, Group, PointsEntry
from bot.domain.notices import (
    LEADERBOARD_KIND,
    LeaderboardPoster,
    ensure_leaderboard_timer,
    ensure_leaderboard_timers,
    leaderboard_due,
    leaderboard_ref,
    month_start,
    next_month,
)
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus, Timer
from scheduler.schedules import add_schedule
from tests.support.app import RunningApp
from tests.support.polling import eventually
from tests.support.village import (
    LI,
    SECRETARY,
    ZHANG,
    deliver_event,
    event,
    joined,
    village_id,
)

LESSON = "telecom-fraud"



async def post_lesson(bot: RunningApp, slug: str = LESSON) -> Delivery:
    """Schedule a lesson for now, let the scheduler post it, wait until it is sent with voice."""
    with session(bot.app[ENGINE]) as db:
        add_schedule(db, slug, [(village_id(bot.app), "Asia/Shanghai")], run_at=utcnow())
    await bot.app[SCHEDULER].run_due()

    def sent() -> Delivery | None:
        with session(bot.app[ENGINE]) as db:
            return db.exec(select(Delivery).where(Delivery.lesson_slug == slug,
                                                  Delivery.status == DeliveryStatus.SENT)
                           ).first()

    delivery: Delivery = await eventually(sent)
    return delivery


def room(bot: RunningApp) -> list[ChatMessage]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(ChatMessage).order_by(col(ChatMessage.id))))


async def test_before_any_lesson_replay_says_so_and_listened_earns_nothing(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        assert "还没有发过微党课" in await zhang.ask("/重听")
        await zhang.say("已听")
        assert "还没有发过微党课" in await zhang.ask("/课程")
        assert "还没有积分" in await zhang.ask("/积分")


async def test_listening_earns_points_once_per_lesson_and_points_show_my_rank(
    bot: RunningApp
) -> None:
    delivery = await post_lesson(bot)
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li:
        assert await zhang.ask("已听") == "张大爷，您听完了，积分加 1 分。谢谢您！"
        await zhang.say("听完了")  # the web chat's button: already counted, so no answer
        assert "一共有 1 分。\n这个月在村里排第 1 名（共 1 人）" in await zhang.ask("/积分")
        assert "积分加 1 分" in await li.ask("学习了！")
        await li.ask("建议 村口路灯坏了")
        assert "这个月在村里排第 2 名（共 2 人）" in await zhang.ask("/points")
        mine = await li.ask("／积分")
    assert mine.startswith("李婶，您一共有 3 分。\n这个月在村里排第 1 名")
    assert "提建议 加 2 分" in mine and "听微党课 加 1 分" in mine  # the last changes …
    assert mine.index("提建议") < mine.index("听微党课")  # … newest first
    with session(bot.app[ENGINE]) as db:
        listens = db.exec(select(PointsEntry).where(PointsEntry.reason == "listen")).all()
    assert sorted((p.user_name, p.ref) for p in listens) == [
        ("张大爷", str(delivery.id)), ("李婶", str(delivery.id))]


async def test_replay_posts_the_latest_lesson_again_with_its_voice(bot: RunningApp) -> None:
    await post_lesson(bot, "village-rules")
    await post_lesson(bot)
    before = len(room(bot))
    async with joined(bot.url, ZHANG) as zhang:
        text = await zhang.ask("重听")  # as the lesson list says: the two words, no slash
        assert "【微党课】" in text
        recent = await zhang.ask("/课程")

    def replayed() -> list[ChatMessage]:
        return [m for m in room(bot)[before:] if m.from_bot and m.lesson_slug == LESSON]

    posts = await eventually(lambda: len(replayed()) >= 2 and replayed())
    assert posts[0].audio_url is None and posts[1].audio_url
    assert posts[1].audio_url == next(m.audio_url for m in room(bot)[:before]
                                      if m.lesson_slug == LESSON and m.audio_url)
    with session(bot.app[ENGINE]) as db:
        assert len(db.exec(select(Delivery)).all()) == 2  # a replay is not a new delivery
    lines = recent.splitlines()
    assert lines[0] == "最近的微党课："
    assert lines[1].startswith("1. ") and "《不听不信不转账，守好自己的钱袋子》" in lines[1]
    assert lines[2].startswith("2. ") and "《红白喜事简单办，村规民约大家定》" in lines[2]
    assert "发“重听”两个字" in lines[-1]


async def test_a_month_of_points_ends_in_a_leaderboard_posted_in_the_group(
    bot: RunningApp
) -> None:
    await post_lesson(bot)
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li,
                joined(bot.url, SECRETARY) as secretary):
        await zhang.ask("已听")
        await zhang.ask("建议 村口路灯坏了")
        await li.ask("建议 修一下东头的水渠")
        await li.ask("已听")
        await secretary.ask("/采纳 2 下个月就修")
        assert "一共有 8 分。\n这个月在村里排第 1 名（共 2 人）" in await li.ask("/积分")
        assert "一共有 3 分。\n这个月在村里排第 2 名" in await zhang.ask("/积分")

    with session(bot.app[ENGINE]) as db:
        # The app armed the coming leaderboard when it started; once per group and month.
        assert ensure_leaderboard_timers(db, utcnow()) == 0
        group = db.get(Group, village_id(bot.app))
        given = db.exec(select(PointsEntry)).first()
        assert group is not None and group.id is not None and given is not None
        # The list of the month the points were stored in, in the village: from 20:00 on a
        # month's last day the timer armed at start is already the next month's.
        month = month_start(given.created_at.astimezone(ZoneInfo(group.timezone)).date())
        ensure_leaderboard_timer(db, group, month)
        this_month = leaderboard_ref(group.id, month)
        timer = db.exec(select(Timer).where(Timer.kind == LEADERBOARD_KIND,
                                            Timer.ref == this_month)).one()
    await LeaderboardPoster(bot.app[ENGINE], bot.app[OUTBOX]).post(timer)
    board = room(bot)[-1]
    assert board.from_bot
    lines = board.text.splitlines()
    assert lines[0].startswith("【") and "月积分榜】" in lines[0]
    assert lines[1:3] == ["1. 李婶  8 分", "2. 张大爷  3 分"]
    with session(bot.app[ENGINE]) as db:
        refs = sorted(t.ref for t in db.exec(select(Timer).where(Timer.kind == LEADERBOARD_KIND)))
    assert refs == [this_month, leaderboard_ref(group.id, next_month(month))]  # the next armed


def test_the_leaderboard_is_due_at_eight_in_the_evening_on_the_last_day_of_the_month() -> None:
    assert leaderboard_due(date(2027, 2, 1), "Asia/Shanghai") == datetime(2027, 2, 28, 12,
                                                                          tzinfo=UTC)
    assert leaderboard_due(date(2026, 12, 1), "Asia/Shanghai") == datetime(2026, 12, 31, 12,
                                                                           tzinfo=UTC)


async def test_a_restart_after_the_month_end_arms_the_next_month(bot: RunningApp) -> None:
    after_due = datetime(2026, 12, 31, 13, tzinfo=UTC)  # 21:00 in the village
    with session(bot.app[ENGINE]) as db:
        ensure_leaderboard_timers(db, after_due)
        timer = db.exec(select(Timer).where(Timer.kind == LEADERBOARD_KIND)
                        .order_by(col(Timer.due_at).desc())).first()
        assert timer is not None
    assert timer.ref == leaderboard_ref(village_id(bot.app), date(2027, 1, 1))
    assert timer.due_at == datetime(2027, 1, 31, 12, tzinfo=UTC)


async def test_a_voice_message_outside_a_night_talk_earns_nothing_and_is_only_asked_about(
        bot: RunningApp) -> None:
    await deliver_event(bot.app, event(ZHANG, "v-1", "", voice=bot.app[SETTINGS].audio_dir
                                       / "0123456789abcdef.mp3"))
    with session(bot.app[ENGINE]) as db:
        assert db.exec(select(PointsEntry)).all() == []
    asked = [m.text for m in room(bot) if m.from_bot]
    assert asked == ["要把这段语音记成建议吗？回「是」就记上。"]
