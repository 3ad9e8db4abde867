"""The nightly backup: at its time, through the scheduler's timers, keeping the newest few."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import time, timedelta

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.domain.backup import NIGHTLY_KIND, NIGHTLY_REF
from bot.settings import Settings
from scheduler.models import Timer
from scheduler.timers import TimerStatus, timers_for
from tests.support.app import running
from tests.support.polling import eventually


def nightly_timers(app: object) -> list[Timer]:
    with session(app[ENGINE]) as db:  # type: ignore[index]
        return [t for t in timers_for(db, NIGHTLY_REF) if t.kind == NIGHTLY_KIND]


def pending(app: object) -> list[Timer]:
    return [t for t in nightly_timers(app) if t.status == TimerStatus.PENDING]


async def test_the_nightly_backup_runs_at_its_time_keeps_the_newest_and_arms_the_next(
        settings: Settings) -> None:
    nightly = replace(settings, backup_keep=3, backup_at=time(2, 15))
    folder = nightly.backups
    folder.mkdir(parents=True)
    old = [folder / f"yehua-nightly-2020010{day}-021500.zip" for day in range(1, 5)]
    for path in old:
        path.write_bytes(b"an old night")
    by_hand = folder / "yehua-backup-20200101-120000.zip"
    by_hand.write_bytes(b"made by the secretary")

    async with running(nightly) as bot:
        [timer] = pending(bot.app)
        local = timer.due_at.astimezone(nightly.zone)
        assert (local.hour, local.minute) == (2, 15)
        await bot.app[SCHEDULER].run_due(timer.due_at)

        def made() -> list[str]:
            return sorted(p.name for p in folder.glob("yehua-nightly-*.zip")
                          if p not in old)

        [new] = await eventually(made, 60)
        await eventually(lambda: len(list(folder.glob("yehua-nightly-*.zip"))) == 3)
        kept = sorted(p.name for p in folder.glob("yehua-nightly-*.zip"))
        assert kept == [old[2].name, old[3].name, new], "the newest three nights are kept"
        assert by_hand.exists(), "a backup made by hand is never pruned"
        with zipfile.ZipFile(folder / new) as archive:
            assert "database/yehua.db" in archive.namelist()
        [following] = await eventually(lambda: pending(bot.app))
        assert following.due_at == timer.due_at + timedelta(days=1)


async def test_turned_off_no_timer_is_armed_and_an_armed_one_is_cancelled(
        settings: Settings) -> None:
    async with running(settings) as bot:
        assert len(pending(bot.app)) == 1, "on by default"
    async with running(replace(settings, backup_keep=0)) as bot:
        assert pending(bot.app) == []
        assert [t.status for t in nightly_timers(bot.app)] == [TimerStatus.CANCELLED]
