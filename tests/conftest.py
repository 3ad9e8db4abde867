"""Shared fixtures: the fake speech service and the real app on a loopback port."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

import bot.core.models  # noqa: F401  (register the tables)
import scheduler.models  # noqa: F401
from bot.app import create_app
from bot.settings import DEFAULT_LESSONS_DIR, Settings
from tests.fake_edge import FakeEdge, start_fake_edge


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # edge-tts honours proxy variables; loopback traffic must never go through one.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    import edge_tts.communicate

    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", edge_tts.communicate.WSS_URL)


def _wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file with every table (modules may define their own `engine`)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'yehua.db'}")
    event.listen(engine, "connect", _wal)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def fake_edge() -> AsyncIterator[FakeEdge]:
    async with start_fake_edge() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, fake_edge: FakeEdge) -> Settings:
    """Settings for one test: its own data folder, the fake speech service, no espeak."""
    return Settings(data_dir=tmp_path / "data", tts_endpoint=fake_edge.url, tts_timeout=5.0,
                    espeak=False, demo=False)


@pytest.fixture
def lessons_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped lessons that a test may edit or break."""
    folder = tmp_path / "lessons"
    shutil.copytree(DEFAULT_LESSONS_DIR, folder)
    return folder


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
# Debian's chromium as root, headless, with nothing reaching out to the internet (STYLE trap 9).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@asynccontextmanager
async def launch_chromium(args: list[str] | None = None) -> AsyncIterator[Browser]:
    """Debian's chromium through Playwright; skipped where it is missing, except in CI."""
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run must install it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=args or CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """A headless browser for one test."""
    async with launch_chromium() as browser:
        yield browser


@dataclass
class RunningApp:
    """The real bot serving HTTP on 127.0.0.1."""

    app: web.Application
    runner: web.AppRunner
    url: str


@asynccontextmanager
async def running(settings: Settings, prepare: Callable[[web.Application], Any] | None = None
                  ) -> AsyncIterator[RunningApp]:
    """Start the whole bot (scheduler included) and stop it cleanly after the block."""
    app = create_app(settings)
    if prepare is not None:
        prepare(app)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield RunningApp(app, runner, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {value!r})")
        await asyncio.sleep(0.05)


__all__ = ["RunningApp", "eventually", "replace", "running"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One real PostgreSQL server for the whole run, started on first use."""
    from tests.pg import pg_bin, postgres_server

    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing in CI: .ci/run must install it")
        pytest.skip("PostgreSQL server is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the shared server, for one test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    plain = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return pg_server.rsplit("/", 1)[0] + f"/{name}"
