"""One lesson (text + voice) to 1,000 Telegram groups against a fake enforcing Telegram's limits.

The real app posts the lesson; the fake Bot API answers 429 with retry_after whenever a send
breaks the published limits (30 messages per second overall, 1 per second per chat, 20 per
minute per group). Prints the wall time, the floor those limits set, their ratio, the 429s
provoked and how long after its text each group got its voice.
Bar: within 2% of the floor, zero 429s, each voice within 2 s of its text.

`--instances 2` runs two apps on one PostgreSQL and one bot token, as two instances of a county's
deployment: the ledger's claim splits the groups between them and their one send budget keeps
the pair inside Telegram's limits. Both run in this process beside the fake, on one event loop.
`--database postgresql` runs one instance on PostgreSQL.

Run: .venv/bin/python -m bench.fanout [--groups 1000] [--database postgresql] [--instances 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlmodel import func, select

from bot.app import ENGINE, SCHEDULER, VOICE, create_app
from bot.core.db import session
from bot.core.models import Group
from bot.settings import Settings
from lessons.profiles import get_profile
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.fake_edge import start_fake_edge
from tests.support.fakes.telegram import GLOBAL_PER_SECOND, TOKEN, start_fake_telegram

LESSON = "telecom-fraud"


def _sent(app: web.Application) -> int:
    with session(app[ENGINE]) as db:
        return db.exec(select(func.count()).select_from(Delivery)
                       .where(Delivery.status == DeliveryStatus.SENT)).one()


@contextmanager
def _database(kind: str) -> Iterator[str]:
    """An empty database for the run: SQLite in the instance's folder, or a throwaway server."""
    if kind == "sqlite":
        yield ""
        return
    from tests.support.pg import postgres_server

    with postgres_server() as url:
        yield url


async def _instance(stack: AsyncExitStack, folder: Path, database_url: str, edge_url: str,
                    fake_url: str) -> web.Application:
    """One instance of the bot: its own folder, the shared database and bot token."""
    settings = Settings(data_dir=folder, tts_endpoint=edge_url, espeak=False, demo=False,
                        database_url=database_url, public_url="https://yehua.example.org")
    # Several instances on one token take updates by webhook, as deployed: long polling allows
    # one poller per token (the others' getUpdates are refused).
    settings = replace(settings, extra={"YEHUA_TELEGRAM_TOKEN": TOKEN,
                                        "YEHUA_TELEGRAM_API_BASE": fake_url,
                                        "YEHUA_TELEGRAM_WEBHOOK": "true"})
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    voice = app[VOICE]
    lesson = await voice.find_lesson(LESSON)
    assert lesson is not None
    await voice.render(lesson, voice.tune(get_profile(None)))  # voice cached ahead
    return app


async def run(groups: int, database: str, instances: int) -> None:
    async with start_fake_edge() as edge, start_fake_telegram() as fake:
        with ExitStack() as folders, _database(database) as url:
            async with AsyncExitStack() as stack:
                apps = [await _instance(stack, Path(folders.enter_context(
                    tempfile.TemporaryDirectory())), url, edge.url, fake.url)
                        for _ in range(instances)]
                with session(apps[0][ENGINE]) as db:
                    rows = [Group(platform="telegram", chat_id=str(-1001000000000 - i),
                                  name=f"组{i}") for i in range(groups)]
                    db.add_all(rows)
                    db.flush()
                    add_schedule(db, LESSON, [(g.id or 0, g.timezone) for g in rows],
                                 run_at=utcnow() + timedelta(seconds=1))
                for app in apps:
                    await app[SCHEDULER].rearm()
                # Every instance's posts show in the shared ledger: look there now and then.
                while await asyncio.to_thread(_sent, apps[0]) < groups:  # noqa: ASYNC110
                    await asyncio.sleep(0.5)
    messages = sorted(fake.sent, key=lambda s: s.at)
    wall = messages[-1].at - messages[0].at
    floor = (len(messages) - 1) / GLOBAL_PER_SECOND
    texts = {s.chat_id: s.at for s in messages if s.kind == "text"}
    gaps = [s.at - texts[s.chat_id] for s in messages if s.kind == "voice"]
    print(f"{groups} Telegram groups, one lesson each (text + OGG/Opus voice): "
          f"{len(messages)} messages; {instances} instance(s) on {database}, one bot token")
    print(f"wall time, first send to last: {wall:.2f} s")
    print(f"floor set by {GLOBAL_PER_SECOND} messages/s: {floor:.2f} s")
    print(f"ratio to the floor: {wall / floor:.3f} (bar: ≤ 1.02)")
    print(f"most messages in any second: {_most_in_a_second([s.at for s in messages])} "
          f"(limit {GLOBAL_PER_SECOND})")
    print(f"429s provoked: {fake.floods} (bar: 0)")
    print(f"voice after its text: median {statistics.median(gaps):.2f} s, "
          f"max {max(gaps):.2f} s (bar: ≤ 2 s)")
    print(f"every group got both: {len(texts) == groups and len(gaps) == groups}")


def _most_in_a_second(times: list[float]) -> int:
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--instances", type=int, default=1,
                        help="apps sharing one database and token (2 or more: PostgreSQL)")
    args = parser.parse_args()
    database = "postgresql" if args.instances > 1 else args.database
    asyncio.run(run(args.groups, database, args.instances))


if __name__ == "__main__":
    main()
