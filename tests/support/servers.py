"""Loopback servers: a free port, any aiohttp app on 127.0.0.1, and the real bot."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: web.Application, *, port: int = 0, shutdown_timeout: float = 1.0
                ) -> AsyncIterator[str]:
    """Serve `app` (a fake, an adapter alone, the bot) on 127.0.0.1; yield its http:// URL."""
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


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
