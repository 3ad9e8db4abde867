"""One lesson (text + voice) to 1,000 Telegram groups against a fake enforcing Telegram's limits.

The real app posts the lesson; the fake Bot API answers 429 with retry_after whenever a send
breaks the published limits (30 messages per second overall, 1 per second per chat, 20 per
minute per group). Prints the wall time, the floor those limits set, their ratio, the 429s
provoked and how long after its text each group got its voice.
Bar: within 5% of the floor, zero 429s, each voice within 2 s of its text.

Run: .venv/bin/python -m bench.fanout [--groups 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlmodel import func, select

from bot.app import ENGINE, POSTER, SCHEDULER, VOICE, create_app
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


async def run(groups: int) -> None:
    async with start_fake_edge() as edge, start_fake_telegram() as fake:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(data_dir=Path(folder), tts_endpoint=edge.url, espeak=False,
                                demo=False)
            settings = replace(settings, extra={"YEHUA_TELEGRAM_TOKEN": TOKEN,
                                                "YEHUA_TELEGRAM_API_BASE": fake.url})
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                poster, voice = app[POSTER], app[VOICE]
                lesson = voice.find_lesson(LESSON)
                assert lesson is not None
                await voice.render(lesson, voice.tune(get_profile(None)))  # voice cached ahead
                with session(app[ENGINE]) as db:
                    rows = [Group(platform="telegram", chat_id=str(-1001000000000 - i),
                                  name=f"组{i}") for i in range(groups)]
                    db.add_all(rows)
                    db.flush()
                    add_schedule(db, LESSON, [(g.id or 0, g.timezone) for g in rows],
                                 run_at=utcnow() + timedelta(seconds=1))
                await app[SCHEDULER].rearm()
                while _sent(app) < groups:
                    poster.posted.clear()
                    try:
                        await asyncio.wait_for(poster.posted.wait(), 5)
                    except TimeoutError:
                        continue
            finally:
                await runner.cleanup()
    messages = sorted(fake.sent, key=lambda s: s.at)
    wall = messages[-1].at - messages[0].at
    floor = (len(messages) - 1) / GLOBAL_PER_SECOND
    texts = {s.chat_id: s.at for s in messages if s.kind == "text"}
    gaps = [s.at - texts[s.chat_id] for s in messages if s.kind == "voice"]
    print(f"{groups} Telegram groups, one lesson each (text + OGG/Opus voice): "
          f"{len(messages)} messages")
    print(f"wall time, first send to last: {wall:.2f} s")
    print(f"floor set by {GLOBAL_PER_SECOND} messages/s: {floor:.2f} s")
    print(f"ratio to the floor: {wall / floor:.3f} (bar: ≤ 1.05)")
    print(f"429s provoked: {fake.floods} (bar: 0)")
    print(f"voice after its text: median {statistics.median(gaps):.2f} s, "
          f"max {max(gaps):.2f} s (bar: ≤ 2 s)")
    print(f"every group got both: {len(texts) == groups and len(gaps) == groups}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    asyncio.run(run(parser.parse_args().groups))


if __name__ == "__main__":
    main()
