"""The real bot's web chat room with its people: joining, speaking and what the bot stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import FormData, web
from sqlmodel import col, select

from bot.app import ENGINE, SERVICES, WEBCHAT
from bot.core.db import session
from bot.core.messages import IncomingMessage
from bot.core.models import ChatMessage, Group, PointsEntry, Role, Suggestion
from tests.support.builders import add_group, add_member
from tests.support.recordings import recording

ROOM = "village"
WAIT = 15
SECRETARY = ("user-secretary-01", "王书记")
FACILITATOR = ("user-facilitator-1", "李伯")
ZHANG = ("user-zhang-000001", "张大爷")
LI = ("user-li-0000002", "李婶")


def prepare_village(app: web.Application) -> None:
    """The village group, with a secretary and a facilitator granted in the member table."""
    group = add_group(app[ENGINE], "枫树村大群", chat_id=ROOM, hamlet="上屋场")
    assert group.id is not None
    add_member(app[ENGINE], group.id, *SECRETARY, role=Role.SECRETARY)
    add_member(app[ENGINE], group.id, *FACILITATOR, role=Role.FACILITATOR)


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
        return str((await self.answer(text))["text"])

    async def answer(self, text: str) -> dict[str, Any]:
        """Say something and return the bot's next message whole, as this browser got it."""
        said = await self.say(text)
        while True:
            message = await self._next()
            if message["from_bot"] and message["id"] > said:
                return message

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


async def post_voice(url: str, who: tuple[str, str], seconds: float = 3.0
                     ) -> tuple[int, Any]:
    """Send a recording to the room as `who`, as the page does: the status and the answer."""
    form = FormData()
    form.add_field("user_id", who[0])
    form.add_field("name", who[1])
    form.add_field("audio", recording(seconds), filename="voice.webm", content_type="audio/webm")
    async with aiohttp.ClientSession() as http, \
            http.post(f"{url}/api/rooms/{ROOM}/voice", data=form) as response:
        return response.status, await response.json()


async def say_by_voice(url: str, who: tuple[str, str]) -> int:
    """Send a voice message to the room as `who`; return the id the room gave it."""
    status, answer = await post_voice(url, who)
    assert status == 201, answer
    return int(answer["message"]["id"])
