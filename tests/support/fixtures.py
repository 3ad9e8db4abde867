"""The shared fixtures, registered for every test module by tests/conftest.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy.engine import Engine

from bot.core.db import open_database
from bot.settings import DEFAULT_LESSONS_DIR, Settings
from tests.support.browser import launch_chromium
from tests.support.fake_edge import FakeEdge, start_fake_edge
from tests.support.fakes.onebot import FakeNapCat, fake_napcat
from tests.support.fakes.speech_server import FakeSpeechServer, start_fake_speech_server
from tests.support.fakes.telegram import FakeTelegram, start_fake_telegram
from tests.support.telegram import FAST


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # edge-tts honours proxy variables; loopback traffic must never go through one.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    import edge_tts.communicate

    # Tests that point edge-tts at the fake patch this; restore it after each test.
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", edge_tts.communicate.WSS_URL)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file whose schema the migrations built, as the app builds it."""
    engine = open_database(f"sqlite:///{tmp_path / 'yehua.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
async def fake_edge() -> AsyncIterator[FakeEdge]:
    async with start_fake_edge() as fake:
        yield fake


@pytest.fixture
async def speech_server() -> AsyncIterator[FakeSpeechServer]:
    """A fake OpenAI-compatible speech and transcription server; request it before the app."""
    async with start_fake_speech_server() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, fake_edge: FakeEdge) -> Settings:
    """Settings for one test: its own data folder, the fake speech service, no espeak.

    Scripted members type faster than any villager: the web chat's burst limit is off here and
    on in its own tests (tests/adapters/test_webchat_limits.py).
    """
    return Settings(data_dir=tmp_path / "data", tts_endpoint=fake_edge.url, tts_timeout=5.0,
                    espeak=False, demo=False, webchat_messages=0)


@pytest.fixture
def lessons_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped lessons that a test may edit or break."""
    folder = tmp_path / "lessons"
    shutil.copytree(DEFAULT_LESSONS_DIR, folder)
    return folder


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """A headless browser for one test."""
    async with launch_chromium() as browser:
        yield browser


@pytest.fixture
async def napcat() -> AsyncIterator[FakeNapCat]:
    """A fake NapCat (OneBot v11); request it before the app, so it outlives the app."""
    async with fake_napcat() as fake:
        yield fake


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, started before the app (so it outlives the app's poller)."""
    async with start_fake_telegram(time_scale=FAST) as fake:
        yield fake


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One real PostgreSQL server for the whole run, started on first use."""
    from tests.support.pg import pg_bin, postgres_server

    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing in CI: .ci/run must install it")
        pytest.skip("PostgreSQL server is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the shared server, for one test."""
    from tests.support.pg import fresh_database

    return fresh_database(pg_server)
