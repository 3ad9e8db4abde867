"""Another process holding the database's write lock: the bot keeps answering meanwhile, and
what a member sent during the lock is stored once it is released."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import psycopg
from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import ChatMessage
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.slow_link import slow_link
from tests.support.village import ROOM, WAIT, ZHANG, prepare_village


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold SQLite's write lock from a connection of our own, as another process would."""
    other = sqlite3.connect(settings.db_url.split("///", 1)[-1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("COMMIT")
    finally:
        other.close()


def member_texts(bot: RunningApp) -> list[str]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(ChatMessage.text).where(col(ChatMessage.from_bot).is_(False))
                            .order_by(col(ChatMessage.id))))


async def shown(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next frame about a member's post: the post shown to the room, or an error."""
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=WAIT)
        if frame["type"] != "message" or not frame["message"]["from_bot"]:
            return frame


async def post_while_pages_answer(bot: RunningApp, http: aiohttp.ClientSession,
                                  ws: aiohttp.ClientWebSocketResponse) -> None:
    """A member posts while the write waits for a lock: the room's page and the console's
    login page still answer, and nothing of the post is stored yet (not half-stored)."""
    await ws.send_json({"type": "post", "text": "锁住的时候说的话"})
    async with http.get(f"{bot.url}/room/{ROOM}") as room:
        assert room.status == 200
        assert "枫树村大群" in await room.text()
    async with http.get(f"{bot.url}/admin/login") as login:
        assert login.status == 200
    assert member_texts(bot) == []


async def test_pages_answer_while_another_process_holds_the_write_lock_and_the_post_waits(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, aiohttp.ClientSession() as http, \
            http.ws_connect(f"{bot.url}/ws/{ROOM}") as ws:
        await ws.send_json({"type": "hello", "user_id": ZHANG[0], "name": ZHANG[1]})
        assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"

        # The lock is let go only once the pages have answered: a bot that waited for the
        # database on its event loop would answer them only after giving up on the post.
        with write_lock(settings):
            await post_while_pages_answer(bot, http, ws)

        frame = await shown(ws)
        assert frame["type"] == "message", frame
        assert frame["message"]["text"] == "锁住的时候说的话"
        assert member_texts(bot) == ["锁住的时候说的话"]


@contextmanager
def table_locked(db_url: str, table: str) -> Iterator[None]:
    """Another connection holding a write lock on `table` (readers still pass)."""
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as other:
        other.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        yield
        other.commit()


async def test_on_a_distant_postgresql_pages_answer_while_a_write_waits_for_a_lock(
        settings: Settings, pg_url: str) -> None:
    async with slow_link(pg_url, delay_ms=10) as distant, running(
            replace(settings, database_url=distant), prepare_village) as bot, \
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http, \
            http.ws_connect(f"{bot.url}/ws/{ROOM}") as ws:
        await ws.send_json({"type": "hello", "user_id": ZHANG[0], "name": ZHANG[1]})
        assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"

        with table_locked(pg_url, "chat_message"):
            await post_while_pages_answer(bot, http, ws)

        frame = await shown(ws)
        assert frame["type"] == "message", frame
        assert frame["message"]["text"] == "锁住的时候说的话"
        assert member_texts(bot) == ["锁住的时候说的话"]
