"""Instances sending with one bot token share one send budget in PostgreSQL: together they keep
Telegram's limit, a 429 to one pauses all, and another token keeps a budget of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot.adapters.media import Media
from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.config import TelegramConfig
from bot.app import OUTBOX
from bot.core.db import make_engine, open_database
from bot.core.messages import OutgoingText
from bot.domain.directory import GroupDirectory
from bot.outbox import Outbox
from bot.outbox.budget import DatabaseBudget
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.telegram import (
    GLOBAL_PER_SECOND,
    FakeTelegram,
    start_fake_telegram,
)
from tests.support.loopback import free_port
from tests.support.polling import eventually
from tests.support.telegram import on_telegram
from tests.support.windows import most_in_any_window

OTHER_TOKEN = "7000002:AAHanotherFakeTokenForYehuaTests_98765"


@asynccontextmanager
async def instance(pg_url: str, fake: FakeTelegram, folder: Path) -> AsyncIterator[Outbox]:
    """One bot instance's outbox: its own engine and adapter, the shared database."""
    engine = open_database(pg_url)
    adapter = TelegramAdapter(TelegramConfig(token=fake.token, api_base=fake.url,
                                             bot_name="yehua_bot"),
                              directory=GroupDirectory(engine), media=Media(folder),
                              base_url="")
    budget = DatabaseBudget(engine)
    await adapter.api.open()
    try:
        yield Outbox({"telegram": adapter}, budget=budget)
    finally:
        await adapter.api.close()
        budget.close()
        engine.dispose()


async def post(outbox: Outbox, chats: range) -> None:
    await asyncio.gather(*(outbox.send("telegram", str(-1001000000000 - chat),
                                       [OutgoingText(f"第{chat}组，今晚夜话")])
                           for chat in chats))


def most_in_a_second(fake: FakeTelegram, *more: FakeTelegram) -> int:
    """The most messages the platform took in within one of its seconds (as the fake counts
    them: a second less its allowance for clock jitter)."""
    return most_in_any_window([s.at for f in (fake, *more) for s in f.sent], 1.0 - fake.slack)


async def test_two_instances_on_one_token_keep_telegrams_limit_together(
        pg_url: str, tmp_path: Path) -> None:
    async with start_fake_telegram() as fake, AsyncExitStack() as stack:
        first = await stack.enter_async_context(instance(pg_url, fake, tmp_path))
        second = await stack.enter_async_context(instance(pg_url, fake, tmp_path))
        await asyncio.gather(post(first, range(60)), post(second, range(60, 120)))
    assert len({s.chat_id for s in fake.sent}) == 120  # every group got its message
    assert fake.floods == 0
    assert most_in_a_second(fake) <= GLOBAL_PER_SECOND


async def test_a_429_to_one_instance_pauses_the_other(pg_url: str, tmp_path: Path) -> None:
    async with start_fake_telegram() as fake, AsyncExitStack() as stack:
        first = await stack.enter_async_context(instance(pg_url, fake, tmp_path))
        second = await stack.enter_async_context(instance(pg_url, fake, tmp_path))
        fake.fail(429)  # Telegram's own, stricter limit: "retry after 1"
        flooded = asyncio.create_task(post(first, range(1)))
        await eventually(lambda: fake.floods == 1)
        told_at = asyncio.get_running_loop().time()
        await post(second, range(1, 2))
        await flooded
    (other,) = fake.to(-1001000000001)
    assert other.at >= told_at + 0.9  # the second instance waited out the first one's 429
    assert len(fake.to(-1001000000000)) == 1  # and the first sent its message after the pause
    assert fake.floods == 1


async def test_another_token_keeps_a_budget_of_its_own(pg_url: str, tmp_path: Path) -> None:
    async with start_fake_telegram() as fake, \
            start_fake_telegram(token=OTHER_TOKEN) as other, AsyncExitStack() as stack:
        first = await stack.enter_async_context(instance(pg_url, fake, tmp_path))
        second = await stack.enter_async_context(instance(pg_url, other, tmp_path))
        await asyncio.gather(post(first, range(60)), post(second, range(60)))
    assert fake.floods == other.floods == 0
    assert len(fake.sent) == len(other.sent) == 60
    # Two bots, two limits: together they went faster than one token may.
    assert most_in_a_second(fake, other) > GLOBAL_PER_SECOND


async def test_two_bots_on_one_postgres_and_one_token_post_inside_the_limit(
        pg_url: str, settings: Settings) -> None:
    async with start_fake_telegram() as fake:
        config = replace(on_telegram(settings, fake), database_url=pg_url)
        first_config = replace(config, data_dir=settings.data_dir / "one")
        second_config = replace(config, data_dir=settings.data_dir / "two")
        async with running(first_config) as one, running(second_config) as two:
            await asyncio.gather(post(one.app[OUTBOX], range(50)),
                                 post(two.app[OUTBOX], range(50, 100)))
    assert len({s.chat_id for s in fake.sent}) == 100
    assert fake.floods == 0
    assert most_in_a_second(fake) <= GLOBAL_PER_SECOND


async def test_while_the_database_is_away_an_instance_paces_alone(tmp_path: Path) -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    budget = DatabaseBudget(engine)  # nothing listens there: every reservation fails
    async with start_fake_telegram() as fake:
        adapter = TelegramAdapter(TelegramConfig(token=fake.token, api_base=fake.url,
                                                 bot_name="yehua_bot"),
                                  directory=GroupDirectory(engine), media=Media(tmp_path),
                                  base_url="")
        await adapter.api.open()
        try:
            await post(Outbox({"telegram": adapter}, budget=budget), range(40))
        finally:
            await adapter.api.close()
            budget.close()
    assert len({s.chat_id for s in fake.sent}) == 40  # the lesson still reached every group
    assert fake.floods == 0
    assert most_in_a_second(fake) <= GLOBAL_PER_SECOND
