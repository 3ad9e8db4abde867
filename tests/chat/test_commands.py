"""Chat commands through the real app and the web chat's WebSocket: suggestions and roles."""

from __future__ import annotations

from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.messages import IncomingMessage
from bot.core.models import (
    Group,
    Member,
    Role,
    SuggestionChange,
    SuggestionStatus,
)
from bot.domain.points import PointsRules
from tests.support.app import RunningApp
from tests.support.village import (
    FACILITATOR,
    LI,
    SECRETARY,
    ZHANG,
    bot_texts,
    deliver_event,
    event,
    joined,
    points_of,
    suggestions,
)

RAISED_FIRST = ("收到，您的建议记下了，是第 1 号。村里看过后会在群里回您，"
                "想问进展就发“我的建议”。")


async def test_members_raise_suggestions_in_every_written_form_and_hear_the_number(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li:
        assert await zhang.ask("建议 村口路灯坏了") == RAISED_FIRST
        assert "第 2 号" in await li.ask("#建议 修一下东头的水渠")
        assert "第 3 号" in await zhang.ask("建议：垃圾好几天没人收了")
        assert "第 4 号" in await li.ask("/suggest 晚上巡逻多安排几个人")
        assert "第 5 号" in await zhang.ask("／建议 医保缴费能不能在村里办")
        assert "先说“建议”两个字，再说事" in await zhang.ask("建议")
        await zhang.say("建议很好，我同意")  # talk about a suggestion is not a new one
        assert "您提过 3 条建议" in await zhang.ask("/我的建议")
    rows = suggestions(bot.app)
    assert [(s.id, s.author_name, s.text) for s in rows] == [
        (1, "张大爷", "村口路灯坏了"), (2, "李婶", "修一下东头的水渠"),
        (3, "张大爷", "垃圾好几天没人收了"), (4, "李婶", "晚上巡逻多安排几个人"),
        (5, "张大爷", "医保缴费能不能在村里办")]
    assert rows[0].hamlet == "上屋场"
    assert points_of(bot.app, ZHANG[0]) == 3 * PointsRules().suggest


async def test_a_member_trying_to_adopt_is_refused_politely_and_nothing_changes(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        await zhang.ask("建议 村口路灯坏了")
        answer = await zhang.ask("/采纳 1 好")
        assert "对不起" in answer and "书记" in answer
        assert "对不起" in await zhang.ask("/办结 1 修好了")
        assert "对不起" in await zhang.ask("/开始夜话")
    [row] = suggestions(bot.app)
    assert row.status == SuggestionStatus.NEW and row.reply is None
    with session(bot.app[ENGINE]) as db:
        assert db.exec(select(SuggestionChange)).all() == []
    assert points_of(bot.app, ZHANG[0]) == PointsRules().suggest


async def test_malformed_secretary_commands_get_a_usage_line_or_no_such_suggestion(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        await zhang.ask("建议 村口路灯坏了")
        answers = [await secretary.ask(text) for text in (
            "/采纳", "/采纳 abc", "/采纳 99999", "/采纳 123456789012345", "/办结 1",
            "/不采纳 1", "/办理 第1号", "/frobnicate")]
    assert answers[0].startswith("采纳请这样发：/采纳 12")
    assert answers[1] == answers[0]
    assert "没有第 99999 号建议" in answers[2]
    assert "没有第 123456789012345 号建议" in answers[3]
    assert "要先采纳" in answers[4]  # new -> done skips adoption
    assert "理由" in answers[5]  # declining needs a reason
    assert "要先采纳" in answers[6]
    assert "没有“/frobnicate”这个命令" in answers[7]
    assert not any("Traceback" in a or "Error" in a for a in answers)
    assert suggestions(bot.app)[0].status == SuggestionStatus.NEW


async def test_the_secretary_adopts_handles_and_finishes_and_the_group_is_told_each_time(
    bot: RunningApp
) -> None:
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li,
                joined(bot.url, SECRETARY) as secretary):
        await zhang.ask("建议 村口路灯坏了，晚上看不见路")
        await li.ask("建议 把广场舞的音响关小一点")

        adopted = await secretary.ask("/采纳 1 已列入下月计划")
        assert ("第 1 号建议（张大爷：村口路灯坏了，晚上看不见路）已采纳。回复：已列入下月计划"
                in adopted)
        assert adopted.startswith("@张大爷")  # the author is mentioned
        assert await li.sees("第 1 号建议") == adopted
        assert "第 1 号建议（张大爷：村口路灯坏了，晚上看不见路）正在办理" in \
            await secretary.ask("/办理1")
        assert "已办结。办理结果：路灯已经修好" in await secretary.ask("/办结 1 路灯已经修好")
        await secretary.say("／不采纳 2 音响是村里统一管的，已转告")
        await zhang.sees("第 2 号建议（李婶：把广场舞的音响关小一点）暂不采纳。理由：音响是村里")

    first, second = suggestions(bot.app)
    assert first.status == SuggestionStatus.DONE and first.handler_name == "王书记"
    assert second.status == SuggestionStatus.DECLINED
    with session(bot.app[ENGINE]) as db:
        steps = db.exec(select(SuggestionChange).where(SuggestionChange.suggestion_id == 1)
                        .order_by(col(SuggestionChange.id))).all()
    assert [(s.to_status, s.actor_name, s.reply) for s in steps] == [
        (SuggestionStatus.ADOPTED, "王书记", "已列入下月计划"),
        (SuggestionStatus.IN_PROGRESS, "王书记", ""),
        (SuggestionStatus.DONE, "王书记", "路灯已经修好")]
    rules = PointsRules()
    assert points_of(bot.app, ZHANG[0]) == rules.suggest + rules.adopted
    assert points_of(bot.app, LI[0]) == rules.suggest


async def test_my_suggestions_with_a_full_width_slash_lists_only_mine_with_their_status(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        assert "还没有提过建议" in await zhang.ask("／我的建议")
        await zhang.ask("建议 村口路灯坏了")
        await secretary.ask("/建议 村委会门口装个公告栏")
        await zhang.ask("建议 修一下东头的水渠")
        await secretary.ask("/采纳 1 已列入下月计划")
        mine = await zhang.ask("／我的建议")
    assert mine.splitlines() == [
        "您提过 2 条建议：",
        "第 3 号【待处理】修一下东头的水渠",
        "第 1 号【已采纳】村口路灯坏了",
        "    回复：已列入下月计划",
    ]


async def test_help_answers_with_a_bot_name_and_shows_each_person_their_own_commands(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary:
        for_member = await zhang.ask("/help@yehua_bot")
        for_secretary = await secretary.ask("/帮助")
    assert "先说“建议”两个字" in for_member and "/我的建议" in for_member and "/积分" in for_member
    assert "/采纳" not in for_member and "/代提" not in for_member
    assert "/采纳 号码 回复" in for_secretary and "/代提" in for_secretary
    assert for_secretary.index("/我的建议") < for_secretary.index("/采纳")


async def test_the_same_message_delivered_twice_makes_one_suggestion_and_one_answer(
    bot: RunningApp
) -> None:
    message = event(ZHANG, "tg-77", "建议 村口路灯坏了")
    await deliver_event(bot.app, message)
    await deliver_event(bot.app, message)
    assert [s.text for s in suggestions(bot.app)] == ["村口路灯坏了"]
    assert [t for t in bot_texts(bot.app) if "第 1 号" in t] == [RAISED_FIRST]
    assert points_of(bot.app, ZHANG[0]) == PointsRules().suggest


async def test_a_facilitator_raises_suggestions_on_behalf_of_people_who_keep_authorship(
    bot: RunningApp
) -> None:
    async with (joined(bot.url, ZHANG) as zhang,
                joined(bot.url, FACILITATOR) as facilitator):
        assert "对不起" in await zhang.ask("/代提 李婶 修水渠")
        assert await facilitator.ask("/代提 张大爷 东头水渠堵了") == (
            "收到，已替张大爷记下，是第 1 号建议。村里看过后会在群里回复。")
        assert "第 2 号" in await facilitator.ask("/proxy 赵奶奶 村里的路灯太暗")
        assert "/代提 张大爷" in await facilitator.ask("/代提 张大爷")
        mine = await zhang.ask("/我的建议")
    assert "东头水渠堵了" in mine
    first, second = suggestions(bot.app)
    assert (first.author_id, first.author_name, first.raised_by_name) == (
        ZHANG[0], "张大爷", "李伯")
    assert (second.author_id, second.author_name) == ("proxy:赵奶奶", "赵奶奶")


async def test_a_platform_group_owner_may_adopt_without_being_in_the_role_table(
    bot: RunningApp
) -> None:
    await deliver_event(bot.app, event(ZHANG, "m-1", "建议 村口路灯坏了"))
    owner = ("user-owner-00001", "群主老周")
    await deliver_event(bot.app, event(owner, "m-2", "/采纳 1 好", platform_role="member"))
    assert suggestions(bot.app)[0].status == SuggestionStatus.NEW
    await deliver_event(bot.app, event(owner, "m-3", "/采纳 1 好", platform_role="owner"))
    assert suggestions(bot.app)[0].status == SuggestionStatus.ADOPTED
    assert "第 1 号建议（张大爷：村口路灯坏了）已采纳。回复：好" in bot_texts(bot.app)[-1]
    with session(bot.app[ENGINE]) as db:
        member = db.exec(select(Member).where(Member.user_id == owner[0])).one()
    assert member.display_name == "群主老周" and member.role == Role.MEMBER


async def test_a_suggestion_is_kept_even_when_the_answer_cannot_be_sent(
    bot: RunningApp
) -> None:
    with session(bot.app[ENGINE]) as db:
        db.add(Group(platform="telegram", chat_id="-1001", name="电报群"))
    # Telegram is not switched on in this app, so every answer there fails to send.
    message = IncomingMessage(platform="telegram", chat_id="-1001", message_id="5",
                              user_id="tg-42", user_name="张大爷", text="建议 村口路灯坏了")
    await deliver_event(bot.app, message)
    [row] = suggestions(bot.app)
    assert (row.platform, row.text, row.author_name) == ("telegram", "村口路灯坏了", "张大爷")
    async with joined(bot.url, ZHANG) as zhang:  # and the bot carries on answering elsewhere
        assert "第 2 号" in await zhang.ask("建议 修一下东头的水渠")


async def test_messages_from_a_group_the_bot_does_not_know_are_left_alone(
    bot: RunningApp
) -> None:
    stranger = IncomingMessage(platform="web", chat_id="elsewhere", message_id="1",
                               user_id="someone-1", user_name="路人", text="建议 修路")
    await deliver_event(bot.app, stranger)
    assert suggestions(bot.app) == []
    with session(bot.app[ENGINE]) as db:
        assert db.exec(select(Member).where(Member.user_id == "someone-1")).first() is None
