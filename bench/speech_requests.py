"""How many synthesis requests one lesson costs when it goes to 1, 10 and 1,000 groups.

The real app posts a scheduled lesson to N web-chat groups; edge-tts talks to the local fake of
its websocket service. The bar: one request per unique segment, however many
groups; posting a cached lesson adds < 50 ms before the first send.

Run: .venv/bin/python -m bench.speech_requests
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlmodel import func, select

from bot.app import ENGINE, POSTER, SCHEDULER, VOICE, create_app
from bot.core.db import session
from bot.core.models import Group
from bot.settings import Settings
from lessons.profiles import get_profile
from lessons.speech import segments
from lessons.spoken import spoken_text
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.fake_edge import start_fake_edge

LESSON = "telecom-fraud"


async def _sent(app: web.Application) -> int:
    with session(app[ENGINE]) as db:
        return db.exec(select(func.count()).select_from(Delivery)
                       .where(Delivery.status == DeliveryStatus.SENT)).one()


async def one_run(groups: int) -> tuple[int, int, float]:
    """Post the lesson to `groups` groups; return (requests, unique segments, seconds)."""
    async with start_fake_edge() as fake:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(data_dir=Path(folder), tts_endpoint=fake.url, espeak=False,
                                demo=False)
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                with session(app[ENGINE]) as db:
                    rows = [Group(platform="web", chat_id=f"g{i}", name=f"组{i}")
                            for i in range(groups)]
                    db.add_all(rows)
                    db.flush()
                    add_schedule(db, LESSON, [(g.id or 0, g.timezone) for g in rows],
                                 run_at=utcnow() + timedelta(seconds=1))
                await app[SCHEDULER].rearm()
                started = time.perf_counter()
                while await _sent(app) < groups:
                    app[POSTER].posted.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(app[POSTER].posted.wait(), 1)
                elapsed = time.perf_counter() - started
                voice = app[VOICE]
                lesson = await voice.find_lesson(LESSON)
                assert lesson is not None
                text = spoken_text(lesson, voice.tune(get_profile(None)))
                return len(fake.requests), len({s for s, _ in segments(text)}), elapsed
            finally:
                await runner.cleanup()


async def cached_overhead(samples: int = 20) -> float:
    """Median ms from 'deliver this' to having the post's messages ready, voice cached."""
    async with start_fake_edge() as fake:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(data_dir=Path(folder), tts_endpoint=fake.url, espeak=False,
                                demo=False)
            app = create_app(settings)
            poster, voice = app[POSTER], app[VOICE]
            lesson = await voice.find_lesson(LESSON)
            assert lesson is not None
            group = Group(platform="web", chat_id="g", name="组")
            profile = voice.profile_for(group, lesson)
            speech = await voice.render(lesson, profile)  # warm the cache
            assert speech is not None
            await poster._audio(group, lesson, speech)
            times = []
            for _ in range(samples):
                started = time.perf_counter()
                fresh = await voice.find_lesson(LESSON)
                assert fresh is not None
                speech = await voice.render(fresh, voice.profile_for(group, fresh))
                assert speech is not None
                await poster._audio(group, fresh, speech)
                times.append((time.perf_counter() - started) * 1000)
            await voice.close()
            app[ENGINE].dispose()
            return statistics.median(times)


async def main() -> None:
    print(f"lesson {LESSON!r} posted by the real app to N web-chat groups (fake edge-tts)")
    print(f"{'groups':>7} {'requests':>9} {'unique segments':>16} {'per segment':>12} "
          f"{'wall s':>8}")
    for groups in (1, 10, 1000):
        requests, unique, elapsed = await one_run(groups)
        print(f"{groups:>7} {requests:>9} {unique:>16} {requests / unique:>12.2f} "
              f"{elapsed:>8.2f}")
    print("bar: requests == unique segments (1.00 per segment) at every N")
    overhead = await cached_overhead()
    print(f"cached lesson, from delivery to messages ready: median {overhead:.1f} ms "
          f"(bar: < 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
