"""The scheduler: schedules, the delivery ledger, the alarm clock, restarts and races."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import scheduler.models  # noqa: F401  (register the tables)
from scheduler import ledger
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus, ScheduleKind
from scheduler.schedules import (
    ScheduleError,
    ScheduleView,
    add_schedule,
    cancel_schedule,
    list_schedules,
    move_group_zone,
    parse_cron,
)
from scheduler.service import Scheduler

SHANGHAI = "Asia/Shanghai"
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday


class Inbox:
    """A deliver callable that records what the scheduler hands over."""

    def __init__(self) -> None:
        self.rows: list[Delivery] = []
        self.arrived = asyncio.Event()

    async def __call__(self, row: Delivery) -> None:
        await asyncio.sleep(0)  # let racing schedulers interleave
        self.rows.append(row)
        self.arrived.set()

    def occurrences(self, group_id: int | None = None) -> list[datetime]:
        return [r.occurrence for r in self.rows if group_id is None or r.group_id == group_id]


@pytest.fixture
async def inbox() -> AsyncIterator[Inbox]:
    yield Inbox()


def schedule(engine: Engine, slug: str = "rural-policy", groups: tuple[int, ...] = (1,),
             zone: str = SHANGHAI, **rule: Any) -> int:
    with Session(engine) as db:
        created = add_schedule(db, slug, [(g, zone) for g in groups], **rule)
        db.commit()
        assert created.id is not None
        return created.id


def views(engine: Engine, include_cancelled: bool = False) -> list[ScheduleView]:
    with Session(engine) as db:
        return list_schedules(db, include_cancelled)


def ledger_rows(engine: Engine) -> list[Delivery]:
    with Session(engine) as db:
        return list(db.exec(select(Delivery).order_by(col(Delivery.occurrence))))


def every(start: datetime, minutes: int, count: int) -> list[datetime]:
    return [start + timedelta(minutes=minutes * i) for i in range(count)]


async def test_daily_8pm_in_shanghai_falls_due_at_noon_utc(engine: Engine) -> None:
    schedule(engine, cron="0 20 * * *", now=T0)
    schedule(engine, "anti-fraud", groups=(2,), zone="Europe/London", cron="0 20 * * *", now=T0)
    by_slug = {view.lesson_slug: view for view in views(engine)}
    assert by_slug["rural-policy"].next_due == datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    assert by_slug["anti-fraud"].next_due == datetime(2025, 3, 3, 20, 0, tzinfo=UTC)


async def test_crontab_weekdays_count_from_sunday(engine: Engine) -> None:
    saturday = datetime(2025, 3, 8, 0, 0, tzinfo=UTC)
    schedule(engine, cron="0 9 * * 1-5", now=saturday, zone="UTC")
    schedule(engine, "sunday-talk", groups=(2,), cron="0 9 * * 0", now=saturday, zone="UTC")
    by_slug = {view.lesson_slug: view for view in views(engine)}
    assert by_slug["rural-policy"].next_due == datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # Monday
    assert by_slug["sunday-talk"].next_due == datetime(2025, 3, 9, 9, 0, tzinfo=UTC)


async def test_restart_mid_series_posts_every_occurrence_exactly_once(
    engine: Engine, inbox: Inbox
) -> None:
    schedule(engine, cron="*/10 * * * *", now=T0 - timedelta(seconds=5))
    first = Scheduler(engine, inbox)
    for minutes in (0, 3, 10, 20):
        await first.run_due(T0 + timedelta(minutes=minutes))
    del first  # the bot goes down after the 10:20 post and is back at 10:45
    second = Scheduler(engine, inbox)
    for minutes in (45, 50, 50, 61):
        await second.run_due(T0 + timedelta(minutes=minutes))

    expected = every(T0, 10, 7)  # 10:00 … 11:00
    assert inbox.occurrences() == expected
    assert [row.occurrence for row in ledger_rows(engine)] == expected
    assert [row.late for row in inbox.rows] == [False] * 3 + [True, True] + [False] * 2


async def test_second_run_for_the_same_time_posts_nothing(engine: Engine, inbox: Inbox) -> None:
    schedule(engine, cron="0 20 * * *", now=T0)
    scheduler = Scheduler(engine, inbox)
    noon = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    assert len(await scheduler.run_due(noon)) == 1
    assert await scheduler.run_due(noon) == []
    assert await Scheduler(engine, inbox).run_due(noon + timedelta(seconds=30)) == []
    assert len(inbox.rows) == 1


async def test_two_schedulers_racing_claim_each_occurrence_once(
    engine: Engine, inbox: Inbox
) -> None:
    groups = tuple(range(1, 31))
    schedule(engine, cron="*/5 * * * *", groups=groups, now=T0)
    schedule(engine, "anti-fraud", groups=groups, run_at=T0 + timedelta(minutes=7), now=T0)
    one, two = Scheduler(engine, inbox), Scheduler(engine, inbox)
    now = T0 + timedelta(minutes=20)
    claimed = await asyncio.gather(one.run_due(now), two.run_due(now), one.run_due(now))

    keys = [(r.lesson_slug, r.group_id, r.occurrence) for r in inbox.rows]
    assert len(keys) == len(set(keys)) == 30 * 5 + 30
    assert sum(len(batch) for batch in claimed) == len(keys)


def test_two_processes_claiming_the_same_occurrences_win_each_once(
    engine: Engine, tmp_path: Path
) -> None:
    script = f"""
import sys
from datetime import UTC, datetime, timedelta
from sqlmodel import Session, create_engine
import scheduler.models
from scheduler.ledger import claim
engine = create_engine("sqlite:///{tmp_path / 'yehua.db'}", connect_args={{"timeout": 30}})
won = 0
for i in range(150):
    with Session(engine) as db:
        when = datetime(2025, 3, 3, tzinfo=UTC) + timedelta(minutes=i)
        if claim(db, lesson_slug="rural-policy", group_id=1, occurrence=when,
                 schedule_id=None) is not None:
            won += 1
        db.commit()
print(won)
"""
    workers = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    wins = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    assert sum(wins) == 150
    assert len(ledger_rows(engine)) == 150


async def test_occurrence_missed_inside_grace_is_posted_late(
    engine: Engine, inbox: Inbox
) -> None:
    schedule(engine, cron="0 20 * * *", now=T0)
    back = datetime(2025, 3, 3, 12, 25, tzinfo=UTC)  # down from 11:50 to 12:25
    await Scheduler(engine, inbox, grace=timedelta(minutes=30)).run_due(back)
    assert [(row.occurrence.hour, row.late) for row in inbox.rows] == [(12, True)]


async def test_occurrence_missed_outside_grace_is_recorded_missed_not_posted(
    engine: Engine, inbox: Inbox
) -> None:
    schedule(engine, cron="0 20 * * *", now=T0)
    back = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)
    await Scheduler(engine, inbox, grace=timedelta(minutes=30)).run_due(back)
    assert inbox.rows == []
    [row] = ledger_rows(engine)
    assert (row.status, row.occurrence.hour) == (DeliveryStatus.MISSED, 12)
    [view] = views(engine)
    assert view.next_due == datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


async def test_long_outage_records_at_most_a_hundred_missed_and_posts_the_recent(
    engine: Engine, inbox: Inbox
) -> None:
    schedule(engine, cron="* * * * *", now=T0)
    back = T0 + timedelta(days=2)
    await Scheduler(engine, inbox, grace=timedelta(minutes=5)).run_due(back)
    rows = ledger_rows(engine)
    assert sum(row.status == DeliveryStatus.MISSED for row in rows) == 100
    assert inbox.occurrences() == every(back - timedelta(minutes=5), 1, 6)


async def test_failing_group_does_not_stop_the_others(engine: Engine) -> None:
    got: list[int] = []

    async def deliver(row: Delivery) -> None:
        if row.group_id == 2:
            raise RuntimeError("adapter exploded")
        got.append(row.group_id)

    schedule(engine, run_at=T0, groups=(1, 2, 3), now=T0)
    await Scheduler(engine, deliver).run_due(T0)
    assert got == [1, 3]


async def test_claimed_but_unsent_rows_are_handed_over_again_on_start(
    engine: Engine, inbox: Inbox
) -> None:
    with Session(engine, expire_on_commit=False) as db:
        row = ledger.claim(db, lesson_slug="rural-policy", group_id=7, occurrence=T0,
                           schedule_id=None)
        sent = ledger.claim(db, lesson_slug="rural-policy", group_id=8, occurrence=T0,
                            schedule_id=None)
        assert row is not None and sent is not None and sent.id is not None
        ledger.mark_sent(db, sent.id, text_message_id="m1", audio_message_id="m2",
                         speech_engine="edge-tts")
        db.commit()
    scheduler = Scheduler(engine, inbox)
    await scheduler.start()
    await scheduler.stop()
    assert [(r.id, r.group_id) for r in inbox.rows] == [(row.id, 7)]


async def test_rows_interrupted_long_ago_become_failed_not_posted(
    engine: Engine, inbox: Inbox
) -> None:
    with Session(engine) as db:
        ledger.claim(db, lesson_slug="rural-policy", group_id=7, occurrence=T0,
                     schedule_id=None)
        db.commit()
    scheduler = Scheduler(engine, inbox, clock=lambda: utcnow() + timedelta(days=2))
    await scheduler.start()
    await scheduler.stop()
    assert inbox.rows == []
    [row] = ledger_rows(engine)
    assert row.status == DeliveryStatus.FAILED and row.error
    assert row.id is not None
    await scheduler.retry_delivery(row.id)
    assert [r.group_id for r in inbox.rows] == [7]


async def test_alarm_clock_really_fires_a_one_off(engine: Engine, inbox: Inbox) -> None:
    scheduler = Scheduler(engine, inbox)
    await scheduler.start()
    try:
        schedule(engine, run_at=utcnow() + timedelta(seconds=0.3), groups=(5,))
        await scheduler.rearm()
        await asyncio.wait_for(inbox.arrived.wait(), 5)
    finally:
        await scheduler.stop()
    assert [(r.lesson_slug, r.group_id, r.late) for r in inbox.rows] == [
        ("rural-policy", 5, False)
    ]
    assert views(engine)[0].next_due is None


async def test_scheduler_can_start_again_after_stop(engine: Engine, inbox: Inbox) -> None:
    scheduler = Scheduler(engine, inbox)
    await scheduler.start()
    await scheduler.stop()
    await scheduler.start()
    try:
        schedule(engine, run_at=utcnow() + timedelta(seconds=0.2))
        await scheduler.rearm()
        await asyncio.wait_for(inbox.arrived.wait(), 5)
    finally:
        await scheduler.stop()
    assert len(inbox.rows) == 1


async def test_cancel_stops_future_deliveries(engine: Engine, inbox: Inbox) -> None:
    schedule_id = schedule(engine, cron="*/10 * * * *", now=T0)
    scheduler = Scheduler(engine, inbox)
    await scheduler.run_due(T0 + timedelta(minutes=10))
    with Session(engine) as db:
        cancel_schedule(db, schedule_id)
        db.commit()
    await scheduler.run_due(T0 + timedelta(minutes=30))
    assert len(inbox.rows) == 2
    assert views(engine) == []
    [view] = views(engine, include_cancelled=True)
    assert view.cancelled and view.next_due is None


async def test_list_shows_rule_groups_and_next_due(engine: Engine) -> None:
    run_at = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
    schedule(engine, run_at=run_at, groups=(3, 4), now=T0)
    schedule(engine, "anti-fraud", cron="30 19 * * *", now=T0)
    once, cron = views(engine)
    assert (once.kind, once.rule, once.group_ids, once.next_due) == (
        ScheduleKind.ONCE, "2025-03-05T12:00:00+00:00", (3, 4), run_at)
    assert (cron.kind, cron.rule, cron.next_due) == (
        ScheduleKind.CRON, "30 19 * * *", datetime(2025, 3, 3, 11, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"cron": "61 20 * * *"}, ['定时规则 "61 20 * * *" 无法识别', "第 1 段（分）", "61"]),
        ({"cron": "0 20 * *"}, ["无法识别", "应为 5 段", "实际 4 段"]),
        ({"cron": "0 20 * * 9"}, ["无法识别", "第 5 段（周）"]),
        ({"cron": "0 0 31 2 *"}, ["永远不会发送"]),
        ({"run_at": T0 - timedelta(minutes=5)}, ["发送时间 2025-03-03 17:55 已经过去"]),
        ({"run_at": T0, "cron": "0 20 * * *"}, ["二者只能选一个"]),
    ],
)
def test_bad_schedule_requests_are_refused_in_chinese(
    engine: Engine, rule: dict[str, Any], words: list[str]
) -> None:
    with Session(engine) as db, pytest.raises(ScheduleError) as error:
        add_schedule(db, "rural-policy", [(1, SHANGHAI)], now=T0, **rule)
    for word in words:
        assert word in str(error.value)
    assert views(engine) == []


def test_no_targets_unknown_zone_and_unknown_schedule_are_refused(engine: Engine) -> None:
    with Session(engine) as db:
        with pytest.raises(ScheduleError, match="没有指定要发送的群"):
            add_schedule(db, "rural-policy", [], cron="0 20 * * *")
        with pytest.raises(ScheduleError, match='时区 "Mars/Olympus" 无法识别'):
            add_schedule(db, "rural-policy", [(1, "Mars/Olympus")], cron="0 20 * * *")
        with pytest.raises(ScheduleError, match="找不到编号为 42 的定时发送"):
            cancel_schedule(db, 42)
    with pytest.raises(ScheduleError, match="无法识别"):
        parse_cron("every day", SHANGHAI)


def test_one_off_set_seconds_ago_is_still_posted(engine: Engine) -> None:
    schedule(engine, run_at=T0 - timedelta(seconds=20), now=T0)
    assert views(engine)[0].next_due == T0 - timedelta(seconds=20)


async def test_prerender_covers_lessons_due_soon_not_those_further_out(engine: Engine) -> None:
    rendered: list[str] = []

    async def prerender(slug: str) -> None:
        if slug == "broken":
            raise RuntimeError("speech service down")
        rendered.append(slug)

    schedule(engine, "tonight", groups=(1, 2), run_at=T0 + timedelta(hours=2), now=T0)
    schedule(engine, "tonight", groups=(3,), cron="0 20 * * *", now=T0)
    schedule(engine, "broken", run_at=T0 + timedelta(hours=3), now=T0)
    schedule(engine, "next-week", run_at=T0 + timedelta(days=7), now=T0)
    scheduler = Scheduler(engine, Inbox(), prerender=prerender,
                          prerender_ahead=timedelta(hours=12))
    assert await scheduler.prerender_due(T0) == ["broken", "tonight"]
    assert rendered == ["tonight"]


async def test_prerender_runs_as_soon_as_the_scheduler_starts(engine: Engine) -> None:
    started = asyncio.Event()

    async def prerender(slug: str) -> None:
        started.set()

    schedule(engine, "tonight", run_at=utcnow() + timedelta(hours=1))
    scheduler = Scheduler(engine, Inbox(), prerender=prerender)
    await scheduler.start()
    try:
        await asyncio.wait_for(started.wait(), 5)
    finally:
        await scheduler.stop()


def test_ledger_marks_sent_failed_and_retries(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as db:
        row = ledger.claim(db, lesson_slug="rural-policy", group_id=1, occurrence=T0,
                           schedule_id=None)
        assert row is not None and row.id is not None
        assert ledger.claim(db, lesson_slug="rural-policy", group_id=1, occurrence=T0,
                            schedule_id=None) is None
        assert ledger.record_missed(db, lesson_slug="rural-policy", group_id=1,
                                    occurrence=T0, schedule_id=None) is None
        ledger.mark_failed(db, row.id, "TimeoutError: platform did not answer")
        ledger.mark_sent(db, row.id, text_message_id="t1", audio_message_id=None,
                         speech_engine="edge-tts", audio_pending=True)
        with pytest.raises(ScheduleError, match="只有发送失败或错过的记录可以重发"):
            ledger.retry(db, row.id)
        assert ledger.deliveries(db, status=DeliveryStatus.SENT)[0].audio_pending
        ledger.mark_sent(db, row.id, text_message_id=None, audio_message_id="a1",
                         speech_engine="edge-tts")
        db.commit()
    with Session(engine) as db:
        [stored] = ledger.deliveries(db, group_id=1)
        assert (stored.status, stored.attempts, stored.text_message_id,
                stored.audio_message_id, stored.audio_pending) == (
            DeliveryStatus.SENT, 1, "t1", "a1", False)
        assert ledger.in_flight(db) == []
        with pytest.raises(ScheduleError, match="找不到编号为 99 的发送记录"):
            ledger.retry(db, 99)


def test_failed_delivery_is_claimed_again_by_retry(engine: Engine) -> None:
    with Session(engine) as db:
        row = ledger.claim(db, lesson_slug="rural-policy", group_id=1, occurrence=T0,
                           schedule_id=None)
        later = ledger.claim(db, lesson_slug="rural-policy", group_id=2, occurrence=T0,
                             schedule_id=None)
        assert row is not None and row.id is not None and later is not None
        ledger.mark_failed(db, row.id, "HTTP 502")
        assert ledger.retry(db, row.id).status == DeliveryStatus.CLAIMED
        db.commit()
        assert [r.group_id for r in ledger.deliveries(db)] == [2, 1]
        assert {r.group_id for r in ledger.in_flight(db)} == {1, 2}


def test_a_group_moving_time_zone_keeps_its_evening_lesson_in_the_evening(engine: Engine) -> None:
    schedule(engine, cron="0 20 * * *", now=T0)
    schedule(engine, "one-off", run_at=T0 + timedelta(days=2), now=T0)
    with Session(engine) as db:
        assert move_group_zone(db, 1, "Asia/Urumqi", now=T0) == 2
        db.commit()
    by_slug = {view.lesson_slug: view for view in views(engine)}
    # 20:00 in Urumqi (UTC+6) is 14:00 UTC; the one-off keeps its instant.
    assert by_slug["rural-policy"].next_due == datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
    assert by_slug["one-off"].next_due == T0 + timedelta(days=2)


async def test_with_a_lease_a_dead_instances_claims_are_taken_over_once(engine: Engine) -> None:
    start = utcnow()
    now = [start]
    schedule(engine, groups=(1, 2, 3), run_at=start, now=start)
    lease = timedelta(seconds=30)
    dying, second, third = Inbox(), Inbox(), Inbox()
    a, b, c = (Scheduler(engine, inbox, clock=lambda: now[0], lease=lease)
               for inbox in (dying, second, third))
    assert len(await a.run_due()) == 3  # A claims every group; its posts never finish
    assert await b.resume_in_flight() == []  # B starting beside a live A leaves them alone

    now[0] = start + timedelta(seconds=20)
    await a.keep_leases()  # A's last renewal
    now[0] = start + timedelta(seconds=45)
    assert await b.keep_leases() == []  # renewed 25 s ago: still A's
    now[0] = start + timedelta(seconds=51)  # A died after its renewal
    await asyncio.gather(b.keep_leases(), c.keep_leases())

    assert sorted(r.group_id for r in second.rows + third.rows) == [1, 2, 3]
    now[0] = start + timedelta(seconds=60)
    await asyncio.gather(b.keep_leases(), c.keep_leases())  # the takers renew: nothing moves
    assert len(second.rows + third.rows) == 3
    with Session(engine) as db:
        assert {r.status for r in ledger.in_flight(db)} == {DeliveryStatus.CLAIMED}
        assert all(r.claimed_at == now[0] for r in ledger.in_flight(db))
