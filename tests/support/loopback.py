"""Loopback servers: a free port, and any aiohttp app served on 127.0.0.1 for a block."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


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
