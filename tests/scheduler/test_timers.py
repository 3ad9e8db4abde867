"""Timers in the scheduler: fired once, late within grace, missed beyond, resumed after a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import scheduler.models  # noqa: F401  (register the tables)
from bot.core.db import open_database
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, Timer
from scheduler.service import Scheduler
from scheduler.timers import (
    AlwaysDue,
    TimerHandler,
    add_timer,
    cancel_timers,
    claim_timer,
    ensure_timers,
    get_timer,
    take_timer,
    timers_for,
)

T0 = datetime(2026, 12, 5, 11, 30, tzinfo=UTC)
GRACE = timedelta(minutes=30)


class Alarms:
    """Timer handlers that record what fired, in order."""

    def __init__(self) -> None:
        self.fired: list[tuple[str, str]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, timer: Timer) -> None:
        await asyncio.sleep(0)  # let racing schedulers interleave
        if timer.ref == "explode":
            raise RuntimeError("the handler blew up")
        self.fired.append((timer.kind, timer.ref))
        self.arrived.set()


async def no_lessons(_row: Delivery) -> None:
    raise AssertionError("no lesson is scheduled in these tests")


def timer(engine: Engine, kind: str, ref: str, due_at: datetime) -> Timer:
    with Session(engine, expire_on_commit=False) as db:
        row = add_timer(db, kind, ref, due_at)
        db.commit()
        return row


def stored(engine: Engine, kind: str, ref: str) -> Timer:
    with Session(engine) as db:
        row = get_timer(db, kind, ref)
        assert row is not None
        return row


def scheduler_for(engine: Engine, alarms: Alarms, **options: Any) -> Scheduler:
    handlers: dict[str, TimerHandler] = {"talk.remind": alarms, "talk.close": AlwaysDue(alarms)}
    return Scheduler(engine, no_lessons, grace=GRACE, timer_handlers=handlers, **options)


async def test_timer_fires_once_at_its_time_and_never_again(engine: Engine) -> None:
    alarms = Alarms()
    timer(engine, "talk.remind", "talk:1", T0)
    scheduler = scheduler_for(engine, alarms)
    await scheduler.run_due(T0 - timedelta(seconds=1))
    assert alarms.fired == []
    await scheduler.run_due(T0)
    await scheduler.run_due(T0 + timedelta(minutes=1))
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(minutes=2))
    assert alarms.fired == [("talk.remind", "talk:1")]
    row = stored(engine, "talk.remind", "talk:1")
    assert (row.status, row.fired_at, row.error) == ("fired", T0, None)


async def test_timer_found_late_fires_inside_grace_and_is_marked_missed_beyond(
    engine: Engine
) -> None:
    alarms = Alarms()
    timer(engine, "talk.remind", "talk:1", T0)
    timer(engine, "talk.remind", "talk:2", T0 + timedelta(hours=1))
    # Down from before T0 until T0 + 1 h 20 min: talk:1 is 80 min late, talk:2 only 20.
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(minutes=80))
    assert alarms.fired == [("talk.remind", "talk:2")]
    missed = stored(engine, "talk.remind", "talk:1")
    assert missed.status == "missed" and missed.error and "grace" in missed.error


async def test_always_due_timer_fires_however_late(engine: Engine) -> None:
    alarms = Alarms()
    timer(engine, "talk.close", "talk:1", T0)
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(days=2))
    assert alarms.fired == [("talk.close", "talk:1")]


async def test_adding_again_moves_a_pending_timer_but_never_revives_a_fired_one(
    engine: Engine
) -> None:
    alarms = Alarms()
    timer(engine, "talk.remind", "talk:1", T0)
    timer(engine, "talk.remind", "talk:1", T0 + timedelta(hours=1))  # moved later
    scheduler = scheduler_for(engine, alarms)
    await scheduler.run_due(T0)
    assert alarms.fired == []
    await scheduler.run_due(T0 + timedelta(hours=1))
    assert alarms.fired == [("talk.remind", "talk:1")]
    again = timer(engine, "talk.remind", "talk:1", T0 + timedelta(hours=2))
    assert again.status == "fired"
    await scheduler.run_due(T0 + timedelta(hours=2))
    assert len(alarms.fired) == 1


async def test_cancelling_by_ref_reaches_only_that_thing(engine: Engine) -> None:
    alarms = Alarms()
    for ref in ("talk:5", "talk:50", "group:3:2026-12", "group:30:2026-12"):
        timer(engine, "talk.remind", ref, T0)
    with Session(engine) as db:
        assert cancel_timers(db, "talk:5") == 1
        assert cancel_timers(db, "group:3") == 1
        db.commit()
        assert [t.status for t in timers_for(db, "talk:5")] == ["cancelled"]
    await scheduler_for(engine, alarms).run_due(T0)
    assert sorted(ref for _, ref in alarms.fired) == ["group:30:2026-12", "talk:50"]
    # A cancelled timer set again is due again.
    timer(engine, "talk.remind", "talk:5", T0 + timedelta(minutes=5))
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(minutes=5))
    assert ("talk.remind", "talk:5") in alarms.fired


async def test_two_schedulers_racing_fire_each_timer_once(engine: Engine) -> None:
    alarms = Alarms()
    for n in range(40):
        timer(engine, "talk.remind", f"talk:{n}", T0 + timedelta(seconds=n))
    one, two = scheduler_for(engine, alarms), scheduler_for(engine, alarms)
    now = T0 + timedelta(minutes=1)
    fired = await asyncio.gather(one.fire_timers(now), two.fire_timers(now), one.fire_timers(now))
    assert sorted(alarms.fired) == sorted({("talk.remind", f"talk:{n}") for n in range(40)})
    assert sum(len(batch) for batch in fired) == 40


async def test_a_failing_handler_is_recorded_and_the_others_still_fire(engine: Engine) -> None:
    alarms = Alarms()
    timer(engine, "talk.remind", "explode", T0)
    timer(engine, "talk.remind", "talk:2", T0)
    await scheduler_for(engine, alarms).run_due(T0)
    assert alarms.fired == [("talk.remind", "talk:2")]
    failed = stored(engine, "talk.remind", "explode")
    assert failed.status == "fired" and failed.error == "RuntimeError: the handler blew up"


async def test_timers_interrupted_by_a_crash_run_again_on_start(engine: Engine) -> None:
    alarms = Alarms()
    now = utcnow()
    recent = timer(engine, "talk.remind", "talk:1", now - timedelta(minutes=1))
    old = timer(engine, "talk.remind", "talk:2", now - timedelta(hours=3))
    closing = timer(engine, "talk.close", "talk:3", now - timedelta(hours=3))
    with Session(engine) as db:  # claimed, then the process was killed mid-handler
        assert recent.id and old.id and closing.id
        assert claim_timer(db, recent.id, now - timedelta(minutes=1))
        assert claim_timer(db, old.id, now - timedelta(hours=3))
        assert claim_timer(db, closing.id, now - timedelta(hours=3))
        assert not claim_timer(db, recent.id, now)
        db.commit()
    scheduler = scheduler_for(engine, alarms)
    await scheduler.start()
    await scheduler.stop()
    assert sorted(alarms.fired) == [("talk.close", "talk:3"), ("talk.remind", "talk:1")]
    assert stored(engine, "talk.remind", "talk:2").status == "missed"
    assert stored(engine, "talk.close", "talk:3").status == "fired"


async def test_timers_of_kinds_without_a_handler_are_left_pending(engine: Engine) -> None:
    alarms = Alarms()
    timer(engine, "points.leaderboard", "group:1:2026-12", T0)
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(days=1))
    assert alarms.fired == []
    assert stored(engine, "points.leaderboard", "group:1:2026-12").status == "pending"


async def test_a_step_taken_by_hand_is_not_fired_again_by_the_alarm(engine: Engine) -> None:
    alarms = Alarms()
    timer(engine, "talk.close", "talk:1", T0)
    with Session(engine) as db:
        taken = take_timer(db, "talk.close", "talk:1", T0 - timedelta(minutes=20))
        assert taken is not None and taken.status == "running"
        assert take_timer(db, "talk.close", "talk:1", T0 - timedelta(minutes=19)) is None
        db.commit()
    await scheduler_for(engine, alarms).run_due(T0)
    assert alarms.fired == []


async def test_alarm_clock_really_fires_a_timer(engine: Engine) -> None:
    alarms = Alarms()
    scheduler = scheduler_for(engine, alarms)
    await scheduler.start()
    try:
        timer(engine, "talk.remind", "talk:9", utcnow() + timedelta(seconds=0.3))
        await scheduler.rearm()
        await asyncio.wait_for(alarms.arrived.wait(), 5)
    finally:
        await scheduler.stop()
    assert alarms.fired == [("talk.remind", "talk:9")]


async def test_on_postgres_timers_fire_once_and_fired_ones_stay_fired(pg_url: str) -> None:
    engine = open_database(pg_url)
    alarms = Alarms()
    try:
        for n in range(20):
            timer(engine, "talk.remind", f"talk:{n}", T0)
        timer(engine, "talk.close", "talk:0", T0 + timedelta(hours=1))
        timer(engine, "talk.close", "talk:0", T0 + timedelta(hours=2))  # moved
        one, two = scheduler_for(engine, alarms), scheduler_for(engine, alarms)
        await asyncio.gather(one.run_due(T0), two.run_due(T0), one.run_due(T0))
        assert len(alarms.fired) == len(set(alarms.fired)) == 20
        with Session(engine) as db:
            assert take_timer(db, "talk.remind", "talk:1", T0) is None
            assert take_timer(db, "talk.close", "talk:0", T0) is not None
            db.commit()
        assert timer(engine, "talk.close", "talk:0", T0).status == "running"
        await one.run_due(T0 + timedelta(hours=3))
        assert len(alarms.fired) == 20
    finally:
        engine.dispose()


def ensure(engine: Engine, kind: str, wanted: dict[str, datetime]) -> int:
    with Session(engine) as db:
        added = ensure_timers(db, kind, wanted)
        db.commit()
        return added


async def ensured_for_many_groups_fire_once_each_and_a_fired_one_is_not_armed_again(
    engine: Engine
) -> None:
    alarms = Alarms()
    # A county's groups at start-up: more refs than one query asks about.
    wanted = {f"group:{n}:2026-12": T0 + timedelta(minutes=n % 3) for n in range(1200)}
    timer(engine, "talk.remind", "group:0:2026-12", T0 + timedelta(minutes=4))  # there already
    assert ensure(engine, "talk.remind", wanted) == 1199
    assert stored(engine, "talk.remind", "group:0:2026-12").due_at == T0 + timedelta(minutes=4)
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(minutes=5))
    assert len(alarms.fired) == len(set(alarms.fired)) == 1200

    # The next start: all of them fired, none armed again; a new group's is.
    assert ensure(engine, "talk.remind", {**wanted, "group:1200:2026-12": T0}) == 1
    await scheduler_for(engine, alarms).run_due(T0 + timedelta(minutes=10))
    assert len(alarms.fired) == 1201
    with pytest.raises(ValueError, match="aware"):
        ensure(engine, "talk.remind", {"group:9:2027-01": datetime(2027, 1, 1)})


async def test_timers_ensured_at_start_fire_once_each_never_again(engine: Engine) -> None:
    await ensured_for_many_groups_fire_once_each_and_a_fired_one_is_not_armed_again(engine)


async def test_on_postgres_timers_ensured_at_start_fire_once_each(pg_url: str) -> None:
    engine = open_database(pg_url)
    try:
        await ensured_for_many_groups_fire_once_each_and_a_fired_one_is_not_armed_again(engine)
    finally:
        engine.dispose()
