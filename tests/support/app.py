"""The real bot, whole, serving HTTP on a loopback port for the block of a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from tests.support.loopback import serve


@dataclass
class RunningApp:
    """The real bot serving HTTP on 127.0.0.1."""

    app: web.Application
    url: str


@asynccontextmanager
async def running(settings: Settings, prepare: Callable[[web.Application], Any] | None = None,
                  *, port: int = 0) -> AsyncIterator[RunningApp]:
    """Start the whole bot (scheduler included) and stop it cleanly after the block."""
    app = create_app(settings)
    if prepare is not None:
        prepare(app)
    async with serve(app, port=port) as url:
        yield RunningApp(app, url)
