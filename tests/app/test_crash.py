"""Kill -9 mid-fanout to 200 Telegram groups and restart: each gets the lesson, few twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.core.db import open_database, session
from bot.core.models import Group
from scheduler.dbtypes import utcnow
from scheduler.schedules import add_schedule
from tests.support.fake_edge import FakeEdge
from tests.support.fakes.telegram import TOKEN, FakeTelegram, start_fake_telegram
from tests.support.loopback import free_port
from tests.support.polling import eventually

GROUPS = 200
IN_FLIGHT_BOUND = 30  # the pacer never has more Telegram sends in flight than its global rate


def _seed(data: Path) -> None:
    engine = open_database(f"sqlite:///{data / 'yehua.db'}")
    with session(engine) as db:
        groups = [Group(platform="telegram", chat_id=str(-1001000000000 - i), name=f"第{i}组")
                  for i in range(GROUPS)]
        db.add_all(groups)
        db.flush()
        add_schedule(db, "telecom-fraud", [(g.id or 0, g.timezone) for g in groups],
                     run_at=utcnow() + timedelta(seconds=3))
    engine.dispose()


async def _start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)


def _complete(fake: FakeTelegram) -> bool:
    kinds = {(s.chat_id, s.kind) for s in fake.sent}
    return len(kinds) == 2 * GROUPS


async def test_kill_9_mid_fanout_then_restart_every_group_gets_the_lesson(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _seed(data)
    async with start_fake_telegram() as fake:
        env = {**os.environ, "YEHUA_DATA_DIR": str(data), "YEHUA_PORT": str(free_port()),
               "YEHUA_DEMO": "false", "YEHUA_ESPEAK": "false", "YEHUA_TTS_ENDPOINT": fake_edge.url,
               "YEHUA_TELEGRAM_TOKEN": TOKEN, "YEHUA_TELEGRAM_API_BASE": fake.url,
               "YEHUA_LOG_LEVEL": "WARNING", "NO_PROXY": "127.0.0.1,localhost"}
        bot = await _start_bot(env)
        try:
            await eventually(lambda: len(fake.sent) >= GROUPS // 2, 60)
        finally:
            os.kill(bot.pid, signal.SIGKILL)
            await bot.wait()
        sent_at_kill = len(fake.sent)
        assert sent_at_kill < 2 * GROUPS, "killed mid-way"

        bot = await _start_bot(env)
        try:
            await eventually(lambda: _complete(fake), 90)
        finally:
            bot.terminate()
            await bot.wait()

    counts = Counter((s.chat_id, s.kind) for s in fake.sent)
    doubled = {key: n for key, n in counts.items() if n > 1}
    print(f"\n{GROUPS} groups; {sent_at_kill} messages sent before the kill; "
          f"{len(doubled)} messages went out twice: {sorted(doubled)}")
    assert all(counts[(chat, kind)] >= 1 for chat, kind in counts)
    assert len({chat for chat, _ in counts}) == GROUPS
    assert sum(n - 1 for n in doubled.values()) <= IN_FLIGHT_BOUND
    assert fake.floods == 0
