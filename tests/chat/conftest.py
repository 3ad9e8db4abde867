"""The chat tests' bot: the real app with the village's web-chat room and its people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.village import prepare_village


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[RunningApp]:
    async with running(settings, prepare_village) as app:
        yield app
