"""Several real bot processes on one PostgreSQL: each its own port and data folder."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.loopback import free_port
from tests.support.polling import eventually
from tests.support.process import bot_env, start_yehua

PROBE = "/static/chat-icon.svg"  # served once the web server is up
READY_S = 60  # a cold start imports, migrates and starts every adapter


@dataclass
class Instance:
    """One `python -m bot` process of the group."""

    name: str
    url: str
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    killed: bool = field(default=False)

    def kill(self) -> None:
        """kill -9: no clean-up, no last commit."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.killed = True


async def _answers(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(url + PROBE) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def start(instance: Instance) -> None:
    """Start `instance` and wait until it answers over HTTP."""
    instance.process = await start_yehua(env=instance.env)
    process = instance.process

    async def ready() -> bool:
        if process.returncode is not None:
            assert process.stderr is not None
            err = (await process.stderr.read()).decode()
            raise AssertionError(f"{instance.name} stopped at start: {err[-2000:]}")
        return await _answers(instance.url)

    await eventually(ready, READY_S)


async def stop(instance: Instance) -> None:
    """Stop `instance` (SIGTERM, then SIGKILL after 20 s) and reap it."""
    process = instance.process
    if process is None or process.returncode is not None:
        return
    if not instance.killed:
        process.terminate()
    try:
        async with asyncio.timeout(20):
            await process.communicate()
    except TimeoutError:
        process.kill()
        await process.communicate()


@asynccontextmanager
async def instances(count: int, db_url: str, folder: Path, *, start_all: bool = True,
                    per_instance: Mapping[str, Mapping[str, str]] | None = None,
                    **settings: str) -> AsyncIterator[list[Instance]]:
    """`count` bot processes A, B, C… on the database `db_url`, sharing `settings` (plus each
    its own from `per_instance`); all answering unless `start_all` is False (then the caller
    starts each with `start`). Every one is stopped at the end."""
    group = []
    for n in range(count):
        port = free_port()
        name = "ABCDEFGHIJ"[n]
        url = f"http://127.0.0.1:{port}"
        env = bot_env(folder / name / "data", YEHUA_DATABASE_URL=db_url, YEHUA_PORT=str(port),
                      YEHUA_PUBLIC_URL=url, **settings)
        env |= (per_instance or {}).get(name, {})
        group.append(Instance(name, url, env))
    try:
        if start_all:  # together: the first to take the migration lock migrates
            await asyncio.gather(*(start(instance) for instance in group))
        yield group
    finally:
        await asyncio.gather(*(stop(instance) for instance in group))
