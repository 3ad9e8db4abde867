"""Chat commands through the real app and the web chat's WebSocket: suggestions and roles.

The helpers at the top are shared by the other tests/test_commands_*.py files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import col, select

from bot.app import ENGINE, SERVICES, WEBCHAT
from bot.core.db import session
from bot.core.messages import IncomingMessage
from bot.core.models import (
    ChatMessage,
    Group,
    Member,
    PointsEntry,
    Role,
    Suggestion,
    SuggestionChange,
    SuggestionStatus,
)
from bot.domain.points import PointsRules
from bot.settings import Settings
from tests.conftest import RunningApp, running

ROOM = "village"
WAIT = 15
SECRETARY = ("user-secretary-01", "王书记")
FACILITATOR = ("user-facilitator-1", "李伯")
ZHANG = ("user-zhang-000001", "张大爷")
LI = ("user-li-0000002", "李婶")


def prepare_village(app: web.Application) -> None:
    """The village group, with a secretary and a facilitator granted in the member table."""
    with session(app[ENGINE]) as db:
        group = Group(platform="web", chat_id=ROOM, name="枫树村大群", hamlet="上屋场")
        db.add(group)
        db.flush()
        assert group.id is not None
        db.add(Member(group_id=group.id, user_id=SECRETARY[0], display_name=SECRETARY[1],
                      role=Role.SECRETARY))
        db.add(Member(group_id=group.id, user_id=FACILITATOR[0], display_name=FACILITATOR[1],
                      role=Role.FACILITATOR))


@dataclass
class Person:
    """Someone in the room with the web chat open."""

    ws: aiohttp.ClientWebSocketResponse
    user_id: str
    name: str
    tag: str

    async def say(self, text: str) -> int:
        """Post `text`; return the id the room gave it."""
        await self.ws.send_json({"type": "post", "text": text})
        while True:
            message = await self._next()
            if not message["from_bot"] and message["sender_tag"] == self.tag \
                    and message["text"] == text:
                return int(message["id"])

    async def ask(self, text: str) -> str:
        """Say something and return what the bot posts next (its answer)."""
        said = await self.say(text)
        while True:
            message = await self._next()
            if message["from_bot"] and message["id"] > said:
                return str(message["text"])

    async def sees(self, fragment: str) -> str:
        """Wait for a bot post containing `fragment` and return it whole."""
        while True:
            message = await self._next()
            if message["from_bot"] and fragment in message["text"]:
                return str(message["text"])

    async def _next(self) -> dict[str, Any]:
        frame = await self.ws.receive_json(timeout=WAIT)
        assert frame["type"] == "message", frame
        message: dict[str, Any] = frame["message"]
        return message


@asynccontextmanager
async def joined(url: str, who: tuple[str, str]) -> AsyncIterator[Person]:
    """Open the room's WebSocket as `who` (user id, name) and say hello."""
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}/ws/{ROOM}") as ws:
        await ws.send_json({"type": "hello", "user_id": who[0], "name": who[1]})
        ready = await ws.receive_json(timeout=WAIT)
        assert ready["type"] == "ready", ready
        yield Person(ws, who[0], who[1], ready["tag"])


def village_id(app: web.Application) -> int:
    with session(app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
        assert group.id is not None
        return group.id


def suggestions(app: web.Application) -> list[Suggestion]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


def bot_texts(app: web.Application) -> list[str]:
    """Everything the bot has posted in the room, oldest first."""
    with session(app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))
                       .order_by(col(ChatMessage.id)))
        return [row.text for row in rows]


async def deliver_event(app: web.Application, message: IncomingMessage) -> None:
    """Hand an event to the bot the way an adapter does (a platform redelivery, a reply)."""
    handler = app[WEBCHAT].on_event
    assert handler is not None, "the app wires the router as the web chat's on_event"
    await handler(message)
    await app[SERVICES].replies.drain()  # the answers go out in the background


def event(who: tuple[str, str], message_id: str, text: str, **extra: Any) -> IncomingMessage:
    """An incoming message in the village room from `who`."""
    return IncomingMessage(platform="web", chat_id=ROOM, message_id=message_id, user_id=who[0],
                           user_name=who[1], text=text, **extra)


def points_of(app: web.Application, user_id: str) -> int:
    with session(app[ENGINE]) as db:
        rows = db.exec(select(PointsEntry).where(PointsEntry.user_id == user_id))
        return sum(row.points for row in rows)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[RunningApp]:
    async with running(settings, prepare_village) as app:
        yield app


async def test_members_raise_suggestions_in_every_written_form_and_hear_the_number(
    bot: RunningApp
) -> None:
    async with joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li:
        assert await zhang.ask("建议 村口路灯坏了") == "收到，您的建议是第 1 号，我们会尽快研究。"
        await li.sees("您的建议是第 1 号")  # the whole group sees the answer
        assert "第 2 号" in await li.ask("#建议 修一下东头的水渠")
        assert "第 3 号" in await zhang.ask("建议：垃圾好几天没人收了")
        assert "第 4 号" in await li.ask("/suggest 晚上巡逻多安排几个人")
        assert "第 5 号" in await zhang.ask("／建议 医保缴费能不能在村里办")
        assert "提建议请这样发" in await zhang.ask("建议")
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
    assert "建议 内容" in for_member and "/我的建议" in for_member and "/积分" in for_member
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
    assert [t for t in bot_texts(bot.app) if "第 1 号" in t] == [
        "收到，您的建议是第 1 号，我们会尽快研究。"]
    assert points_of(bot.app, ZHANG[0]) == PointsRules().suggest


async def test_a_facilitator_raises_suggestions_on_behalf_of_people_who_keep_authorship(
    bot: RunningApp
) -> None:
    async with (joined(bot.url, ZHANG) as zhang,
                joined(bot.url, FACILITATOR) as facilitator):
        assert "对不起" in await zhang.ask("/代提 李婶 修水渠")
        assert await facilitator.ask("/代提 张大爷 东头水渠堵了") == (
            "收到，已替张大爷记下，是第 1 号建议，我们会尽快研究。")
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
