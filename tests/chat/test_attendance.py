"""Attendance at a night talk in the web chat: 「到」「签到」, suggestions, the host's /到场, and
the closing summary's participants line; and which 屋场 a suggestion is counted under."""

from __future__ import annotations

import aiohttp
from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Attendance, ChatMessage, Group, Member, NightTalk
from bot.domain.hamlets import add_hamlet, assign_member
from bot.domain.members import find_member
from tests.chat.test_commands_talks import schedule_talk
from tests.support.app import RunningApp
from tests.support.village import (
    FACILITATOR,
    LI,
    ROOM,
    ZHANG,
    deliver_event,
    event,
    joined,
    suggestions,
)

WANG = ("user-wang-0000003", "王奶奶")
ZHAO = ("user-zhao-0000004", "赵叔")
CHEN = ("user-chen-0000005", "陈嫂")
LIU = ("user-liu-00000006", "刘哥")


def attendance(bot: RunningApp) -> list[tuple[str, str]]:
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(Attendance).order_by(col(Attendance.id)))
        return [(row.name, row.how.value) for row in rows]


def talk_of(bot: RunningApp, talk_id: int) -> NightTalk:
    with session(bot.app[ENGINE]) as db:
        talk = db.get(NightTalk, talk_id)
        assert talk is not None
        return talk


async def test_five_check_ins_a_suggestion_and_the_hosts_count_make_the_summarys_line(
    bot: RunningApp
) -> None:
    talk_id = schedule_talk(bot)
    async with (joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang,
                joined(bot.url, LI) as li, joined(bot.url, WANG) as wang,
                joined(bot.url, ZHAO) as zhao, joined(bot.url, CHEN) as chen,
                joined(bot.url, LIU) as liu):
        await host.say("/开始夜话")
        await zhang.sees("夜话开始")
        assert await zhang.ask("到") == "张大爷，签到好了，欢迎来夜话！"
        assert await li.ask("签到") == "李婶，签到好了，欢迎来夜话！"
        assert await wang.ask("到了！") == "王奶奶，签到好了，欢迎来夜话！"
        assert await zhao.ask("簽到") == "赵叔，签到好了，欢迎来夜话！"  # traditional too
        # Answering the opening note with 到 checks in; it raises no suggestion.
        opening = talk_of(bot, talk_id).open_message_id
        await deliver_event(bot.app, event(CHEN, "chen-reply", "到。", reply_to=opening))
        assert await chen.sees("欢迎来夜话") == "陈嫂，签到好了，欢迎来夜话！"
        assert await zhang.ask("到") == "张大爷，您已经签过到了。"  # counted once
        # Chat that merely contains 到 is chat.
        assert "第 1 号" in await liu.ask("建议 我到了村部才知道路灯坏了")

        assert "话事佬" in await zhang.ask("/到场 23人")  # a member may not count people
        assert "记下了：王五、赵六 到场" in await host.ask("/到场 王五、赵六")
        assert "已经记过了" in await host.ask("/到场 张大爷")  # a member counted already
        # Raised for someone outside the chat: they came in person.
        assert "第 2 号" in await host.ask("/代提 孙婆婆 井水要修")
        assert "最多记 9999 人" in await host.ask("/到场 10000人")
        assert "不像一个名字" in await host.ask("/到场 张三 3人")
        counted = await host.ask("/到场 23人")
        assert "现场另有 23 人" in counted
        assert "到场 32 人（群里签到 6 人，现场 26 人）" in counted
        recounted = await host.ask("/到场 20人")  # said again, the new count replaces it
        assert "到场 29 人（群里签到 6 人，现场 23 人）" in recounted
        assert "/到场" in await host.ask("/到场")  # the usage

        await host.say("/结束夜话")
        summary = await liu.sees("夜话结束")

    assert "到场 29 人（群里签到 6 人，现场 23 人）" in summary
    assert summary.index("到场 29 人") < summary.index("1. 我到了村部才知道路灯坏了")
    assert talk_of(bot, talk_id).walk_ins == 20
    assert attendance(bot) == [("张大爷", "check_in"), ("李婶", "check_in"),
                               ("王奶奶", "check_in"), ("赵叔", "check_in"),
                               ("陈嫂", "check_in"), ("刘哥", "suggestion"),
                               ("王五", "in_person"), ("赵六", "in_person"),
                               ("孙婆婆", "suggestion")]
    # The group stayed quiet: every check-in answer went to its member alone.
    with session(bot.app[ENGINE]) as db:
        answers = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))).all()
    acks = [row for row in answers if "欢迎来夜话" in row.text or "签过到" in row.text]
    assert len(acks) == 6 and all(row.recipient_id for row in acks)
    assert [s.text for s in suggestions(bot.app)] == ["我到了村部才知道路灯坏了", "井水要修"]


async def test_a_check_in_outside_a_night_talk_is_just_chat(bot: RunningApp) -> None:
    schedule_talk(bot)  # scheduled, not open
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, FACILITATOR) as host:
        await zhang.say("到")
        await zhang.say("签到")
        # The next thing the bot says to Zhang answers his next question: 到 got no answer.
        assert "分" in await zhang.ask("/积分")
        assert "没有正在开的夜话" in await host.ask("/到场 23人")
    assert attendance(bot) == []


def place(bot: RunningApp, names: list[str], member: tuple[str, str] | None = None,
          hamlet: str = "") -> None:
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group)).one()
        for name in names:
            add_hamlet(db, group, name)
        if member is not None:
            row = find_member(db, group, member[0]) or Member(
                group_id=group.id or 0, user_id=member[0], display_name=member[1])
            db.add(row)
            db.flush()
            assign_member(db, group.id or 0, row, hamlet)


def set_place(bot: RunningApp, talk_id: int, where: str) -> None:
    with session(bot.app[ENGINE]) as db:
        talk = db.get(NightTalk, talk_id)
        assert talk is not None
        talk.place = where
        db.add(talk)


async def test_a_suggestions_hamlet_comes_from_its_author_else_the_talks_place_else_the_group(
    bot: RunningApp
) -> None:
    place(bot, ["上屋场", "杨家冲屋场", "下屋场"], ZHANG, "下屋场")
    talk_id = schedule_talk(bot)
    set_place(bot, talk_id, "杨家冲屋场禾坪")
    async with (joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li,
                joined(bot.url, FACILITATOR) as host):
        await zhang.ask("建议 修一下水渠")  # before the talk: his own hamlet
        await li.ask("建议 路灯坏了")  # in none: the group's own
        await host.say("/开始夜话")
        await li.sees("夜话开始")
        await li.ask("建议 装个减速带")  # during the talk: its place names 杨家冲屋场
        await zhang.ask("建议 清一下垃圾")  # his own hamlet still wins
        await host.ask("/代提 张大爷 给老人装扶手")  # raised for him: his hamlet
    assert [(s.author_name, s.hamlet) for s in suggestions(bot.app)] == [
        ("张大爷", "下屋场"), ("李婶", "上屋场"), ("李婶", "杨家冲屋场"), ("张大爷", "下屋场"),
        ("张大爷", "下屋场")]


async def test_a_talk_at_a_place_that_is_no_listed_hamlet_leaves_the_groups_hamlet(
    bot: RunningApp
) -> None:
    place(bot, ["上屋场", "下屋场"])
    talk_id = schedule_talk(bot)
    set_place(bot, talk_id, "村部会议室")
    async with joined(bot.url, LI) as li, joined(bot.url, FACILITATOR) as host:
        await host.say("/开始夜话")
        await li.sees("夜话开始")
        await li.ask("建议 会议室装个空调")
    assert [s.hamlet for s in suggestions(bot.app)] == ["上屋场"]


async def test_a_group_without_listed_hamlets_takes_the_talks_place(bot: RunningApp) -> None:
    talk_id = schedule_talk(bot)
    set_place(bot, talk_id, "枫树湾")
    async with joined(bot.url, LI) as li, joined(bot.url, FACILITATOR) as host:
        await li.ask("建议 先提一条")
        await host.say("/开始夜话")
        await li.sees("夜话开始")
        await li.ask("建议 再提一条")
    assert [s.hamlet for s in suggestions(bot.app)] == ["上屋场", "枫树湾"]


async def test_the_web_chat_asks_whether_its_rooms_talk_is_open(bot: RunningApp) -> None:
    talk_id = schedule_talk(bot)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/api/rooms/{ROOM}/talk") as response:
            assert (response.status, await response.json()) == (200, {"open": False,
                                                                      "talk": None})
        async with joined(bot.url, FACILITATOR) as host:
            await host.say("/开始夜话")
            await host.sees("夜话开始")
        async with http.get(f"{bot.url}/api/rooms/{ROOM}/talk") as response:
            assert await response.json() == {"open": True, "talk": talk_id}
        async with http.get(f"{bot.url}/api/rooms/nowhere/talk") as response:
            assert response.status == 404
