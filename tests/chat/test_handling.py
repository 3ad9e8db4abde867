"""Handlers in the web chat: assigning, the handler told alone, /我的待办, closing."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import ChatMessage, SuggestionChange, SuggestionStatus
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp
from tests.support.village import FACILITATOR, LI, SECRETARY, ZHANG, joined, suggestions

ZONE = ZoneInfo("Asia/Shanghai")


def private_texts(bot: RunningApp, user_id: str) -> list[str]:
    """What the bot showed one member alone in the room."""
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot),
                                                 ChatMessage.recipient_id == user_id)
                       .order_by(col(ChatMessage.id)))
        return [row.text for row in rows]


def public_texts(bot: RunningApp) -> list[str]:
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot),
                                                 col(ChatMessage.recipient_id).is_(None)))
        return [row.text for row in rows]


def next_friday() -> date:
    """下周五: the Friday of next week, in the village's zone."""
    today = utcnow().astimezone(ZONE).date()
    return today + timedelta(days=7 - today.weekday() + 4)


async def test_adopting_with_a_handler_tells_the_handler_alone_and_lists_it_in_my_todos(
        bot: RunningApp) -> None:
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary,
                joined(bot.url, FACILITATOR) as libo):
        await zhang.ask("建议 村口路灯坏了，晚上看不见路")
        await secretary.say("/采纳 1 交给 李伯 下周五前 已列入下月计划")
        assert "已采纳。回复：已列入下月计划" in await zhang.sees("第 1 号建议")
        friday = next_friday()
        told = await libo.sees("交给您一件事")
        assert f"请在 {friday.month}月{friday.day}日 前办好" in told
        assert "已交给 李伯 办" in await secretary.sees("已交给")
        todo = await libo.answer("我的待办")
        assert todo["private"] and "第 1 号：村口路灯坏了" in str(todo["text"])
        assert f"期限 {friday.month}月{friday.day}日" in str(todo["text"])
        assert "已超期" not in str(todo["text"])
        assert await zhang.ask("/我的待办") == "您手上没有待办的建议。"
    [row] = suggestions(bot.app)
    assert (row.status, row.handler_name, row.handler_user_id) == (
        SuggestionStatus.ADOPTED, "李伯", FACILITATOR[0])
    assert row.reply == "已列入下月计划"
    assert row.due_at is not None and row.due_at.astimezone(ZONE).date() == friday
    assert not any("交给您一件事" in text for text in public_texts(bot))
    assert not any("交给您一件事" in text for text in private_texts(bot, ZHANG[0]))


async def test_a_plain_member_handler_closes_only_their_own_item_and_only_with_a_result(
        bot: RunningApp) -> None:
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li,
                joined(bot.url, SECRETARY) as secretary):
        await zhang.ask("建议 村口路灯坏了")
        await zhang.ask("建议 东头水渠该清了")
        await secretary.ask("/采纳 1 好")
        await secretary.ask("/采纳 2 好")
        await secretary.say("/交办 2 李婶 3天内")
        await li.sees("交给您一件事")
        assert "对不起" in await li.ask("/办结 1 修好了")  # not hers
        assert "要写上办理结果" in await li.ask("/办结 2")
        assert suggestions(bot.app)[1].status == SuggestionStatus.ADOPTED
        assert "正在办理" in await li.ask("/办理 2")
        await li.say("/办结 2 水渠清好了")
        notice = await zhang.sees("已办结")
    assert "已办结。办理结果：水渠清好了" in notice
    first, second = suggestions(bot.app)
    assert first.status == SuggestionStatus.ADOPTED and first.done_at is None
    assert second.status == SuggestionStatus.DONE and second.done_at is not None
    assert second.handler_name == "李婶" and second.reply == "水渠清好了"


async def test_reassigning_to_someone_outside_the_group_keeps_the_history(
        bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        await zhang.ask("建议 路上有个大坑")
        await secretary.ask("/采纳 1 好")
        await secretary.say("/交办 1 李伯")
        assert "已交给 李伯 办" in await secretary.sees("已交给")
        answer = await secretary.answer("/交办 1 王师傅（修路队） 13800001111 10天内")
    assert answer["private"]
    assert "改交给 王师傅 办（原来是 李伯）" in str(answer["text"])
    assert "请打电话 13800001111" in str(answer["text"])
    [row] = suggestions(bot.app)
    assert (row.handler_name, row.handler_user_id, row.handler_phone, row.handler_role) == (
        "王师傅", None, "13800001111", "修路队")
    today = utcnow().astimezone(ZONE).date()
    assert row.due_at is not None and row.due_at.astimezone(ZONE).date() == today + timedelta(10)
    with session(bot.app[ENGINE]) as db:
        notes = [c.reply for c in db.exec(select(SuggestionChange).order_by(
            col(SuggestionChange.id)))]
    week = today + timedelta(days=7)  # YEHUA_HANDLER_DAYS by default
    assert notes[1:] == [f"交给 李伯 办，期限 {week.month}月{week.day}日",
                         f"改交给 王师傅 办（原来是 李伯），期限 {(today + timedelta(10)).month}月"
                         f"{(today + timedelta(10)).day}日"]


async def test_an_unknown_handler_or_a_past_deadline_is_asked_again_and_nothing_changes(
        bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        await zhang.ask("建议 路上有个大坑")
        unknown = await secretary.ask("/采纳 1 交给 老刘 下周五")
        past = await secretary.ask("/采纳 1 交给 李伯 昨天")
        unclear = await secretary.ask("/交办 1 李伯 随便哪天前")
        new = await secretary.ask("/交办 1 李伯")
    assert "群里没找到「老刘」" in unknown and "电话" in unknown
    assert "已经过了" in past
    assert "没看懂期限「随便哪天前」" in unclear
    assert "只有已采纳、办理中的建议可以交办" in new
    [row] = suggestions(bot.app)
    assert row.status == SuggestionStatus.NEW and row.assigned_at is None


async def test_help_shows_members_their_to_dos_and_secretaries_how_to_assign(
        bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        for_member = await zhang.ask("/帮助")
        for_secretary = await secretary.ask("/帮助")
    assert "/我的待办" in for_member and "/交办" not in for_member
    assert "/交办 号码 李伯 下周五（不写期限就是 7 天）" in for_secretary
