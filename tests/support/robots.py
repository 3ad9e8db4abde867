"""The DingTalk and Feishu robots: a hand-moved clock, an adapter served alone, the app's rows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import select

from bot.app import ENGINE, SCHEDULER
from bot.core.adapter import Adapter
from bot.core.db import session
from bot.core.messages import IncomingMessage
from bot.core.models import Group, Role
from bot.settings import Settings
from lessons.audio import probe
from scheduler.dbtypes import utcnow
from scheduler.schedules import add_schedule
from tests.support import builders
from tests.support.app import RunningApp
from tests.support.loopback import serve


class Clock:
    """A hand-moved clock for the fake's rate windows."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serving(adapter: Adapter) -> AsyncIterator[tuple[str, list[IncomingMessage]]]:
    """A robot adapter alone on an aiohttp app: its URL, and the messages it dispatched."""
    heard: list[IncomingMessage] = []

    async def hear(message: IncomingMessage) -> None:
        heard.append(message)

    adapter.on_event = hear
    app = web.Application()
    adapter.setup(app)
    async with serve(app) as url:
        yield url, heard


def add_group(app: web.Application, platform: str, chat_id: str,
              secretary: tuple[str, str]) -> None:
    """A village group, added as `yehua groups add` would, with its secretary."""
    group = builders.add_group(app[ENGINE], "枫树村党员群", platform=platform, chat_id=chat_id)
    assert group.id is not None
    builders.add_member(app[ENGINE], group.id, *secretary, role=Role.SECRETARY)


async def schedule_lesson(bot: RunningApp, platform: str, slug: str = "ebike-charging") -> None:
    """Schedule a lesson for the platform's one group, due in a second."""
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.platform == platform)).one()
        add_schedule(db, slug, [(group.id or 0, group.timezone)],
                     run_at=utcnow() + timedelta(seconds=1))
    await bot.app[SCHEDULER].rearm()


def rows(bot: RunningApp, model: Any) -> list[Any]:
    """Every stored row of a table."""
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(model)).all())


async def served_mp3_seconds(bot: RunningApp, settings: Settings, link: str) -> float:
    """Open a voice link as a phone would (on the bot's real address): the MP3's length."""
    assert link.startswith(f"{settings.base_url}/media/"), link
    name = link.removeprefix(f"{settings.base_url}/media/")
    assert re.fullmatch(r"[0-9a-f]+\.mp3", name), name
    async with aiohttp.ClientSession() as http, \
            http.get(f"{bot.url}/media/{name}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/mpeg"
        info = probe(await response.read())
    assert info.codec == "mp3"
    return info.duration_s


