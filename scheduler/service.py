"""The scheduler the app owns: the database says what is due, APScheduler is the alarm clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from scheduler import ledger
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus, Schedule, ScheduleTarget, Timer
from scheduler.schedules import (
    ONE_MICROSECOND,
    due_targets,
    earliest_due,
    lessons_due,
    next_occurrence,
)
from scheduler.timers import OffLoop, TimerHandler, TimerRunner

log = logging.getLogger(__name__)

Deliver = Callable[[Delivery], Awaitable[None]]
Prerender = Callable[[str], Awaitable[None]]

ALARM_JOB = "yehua-alarm"
PRERENDER_JOB = "yehua-prerender"
RESYNC_JOB = "yehua-resync"
LEASE_JOB = "yehua-lease"
LATE_AFTER = timedelta(seconds=60)
MISSED_CAP = 100  # missed rows recorded per target per run, then skip to the grace window
PRERENDER_EVERY = timedelta(minutes=10)
# Schedules added by another process (the CLI) are noticed within this long.
RESYNC_EVERY = timedelta(minutes=1)
RETRY_AFTER_ERROR = timedelta(seconds=30)
INTERRUPTED = "interrupted by a restart and claimed more than {minutes} min ago; retry to send"


class Scheduler:
    """Claims due occurrences in the ledger and hands them to `deliver`, now and on every alarm.

    Timers fire alongside: each kind goes to its handler in `timer_handlers` (see
    scheduler.timers; kinds without a handler here are left for another process).

    With a `lease` (several instances on one database) a claim is this instance's only while it
    keeps renewing it: claims it still holds are renewed every third of the lease, and a claim
    nobody renewed for a whole lease (its instance died) is taken over by whichever instance
    sees it first. Without one (the only instance), every claim left at start is its own.
    """

    def __init__(
        self,
        engine: Engine,
        deliver: Deliver,
        *,
        grace: timedelta = timedelta(minutes=30),
        prerender: Prerender | None = None,
        prerender_ahead: timedelta = timedelta(hours=12),
        clock: Callable[[], datetime] = utcnow,
        timer_handlers: Mapping[str, TimerHandler] | None = None,
        executor: Executor | None = None,
        lease: timedelta | None = None,
    ) -> None:
        self._engine = engine
        self._lease = lease
        self._held: set[int] = set()  # ids of the deliveries this instance claimed and posts
        # Database work runs in these threads (the loop's default ones when None), never on
        # the loop: a write lock held elsewhere must not stall everything else.
        self._off_loop = OffLoop(executor)
        self._deliver = deliver
        self._grace = grace
        self._prerender = prerender
        self._prerender_ahead = prerender_ahead
        self._clock = clock
        self._timers = TimerRunner(self._session, timer_handlers or {}, grace,
                                   off_loop=self._off_loop)
        self._alarm: AsyncIOScheduler | None = None
        self._alarm_lock = asyncio.Lock()
        self._jobs: set[asyncio.Task[None]] = set()

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    async def start(self) -> None:
        """Resume interrupted deliveries, post what is due, arm the alarm (inside the loop)."""
        if self._alarm is not None:
            raise RuntimeError("scheduler already started")
        await self.resume_in_flight()
        await self._timers.resume(self._clock())
        await self.run_due()
        self._alarm = AsyncIOScheduler(timezone=UTC)
        self._alarm.start()
        if self._prerender is not None:
            self._alarm.add_job(
                self._tracked(self.prerender_due),
                IntervalTrigger(seconds=PRERENDER_EVERY.total_seconds(), timezone=UTC),
                id=PRERENDER_JOB,
                next_run_time=datetime.now(UTC),
                coalesce=True,
                misfire_grace_time=None,
            )
        self._alarm.add_job(
            self._tracked(self._resync),
            IntervalTrigger(seconds=RESYNC_EVERY.total_seconds(), timezone=UTC),
            id=RESYNC_JOB,
            coalesce=True,
            misfire_grace_time=None,
        )
        if self._lease is not None:
            self._alarm.add_job(
                self._tracked(self.keep_leases),
                IntervalTrigger(seconds=self._lease.total_seconds() / 3, timezone=UTC),
                id=LEASE_JOB,
                coalesce=True,
                misfire_grace_time=None,
            )
        await self.rearm()
        log.info("scheduler started")

    async def stop(self) -> None:
        """Stop the alarm clock and cancel running jobs; what is due stays in the database."""
        alarm, self._alarm = self._alarm, None
        if alarm is None:
            return
        if alarm.running:
            alarm.shutdown(wait=False)
        await asyncio.sleep(0)  # shutdown() only schedules itself on the loop
        jobs = list(self._jobs)
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        log.info("scheduler stopped")

    async def rearm(self) -> None:
        """Set the alarm to the earliest next due time in the database (call after add/cancel)."""
        if self._alarm is None:
            return
        try:
            dues = await self._off_loop(self._next_dues)
        except Exception:  # the alarm must stay armed whatever the database does
            log.exception("could not read the next due time; trying again shortly")
            if self._alarm is not None:  # not stopped meanwhile
                self._arm(datetime.now(UTC) + RETRY_AFTER_ERROR)
            return
        if self._alarm is None:  # stopped meanwhile
            return
        due = min((d for d in dues if d is not None), default=None)
        if due is None:
            if self._alarm.get_job(ALARM_JOB) is not None:
                self._alarm.remove_job(ALARM_JOB)
            return
        self._arm(due)

    def _next_dues(self) -> list[datetime | None]:
        with self._session() as db:
            return [earliest_due(db), self._timers.next_due(db)]

    def _arm(self, when: datetime) -> None:
        assert self._alarm is not None
        # APScheduler runs on the real clock; a date in the past means "at once".
        when = max(when, datetime.now(UTC))
        self._alarm.add_job(
            self._tracked(self._on_alarm),
            DateTrigger(run_date=when, timezone=UTC),
            id=ALARM_JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=10,  # a re-armed alarm may fire while the last one is finishing
        )
        log.debug("alarm set for %s", when.isoformat())

    def _tracked(self, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """Wrap a job so that stop() can cancel and await it."""

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._jobs.add(task)
            try:
                await job()
            finally:
                self._jobs.discard(task)

        return run

    async def _on_alarm(self) -> None:
        async with self._alarm_lock:
            try:
                await self.run_due()
            except Exception:  # the scheduler is an error boundary: log, try again later
                log.exception("running due schedules failed; trying again shortly")
                if self._alarm is not None:
                    self._arm(datetime.now(UTC) + RETRY_AFTER_ERROR)
                return
            await self.rearm()

    async def _resync(self) -> None:
        await self.rearm()

    async def resume_in_flight(self) -> list[Delivery]:
        """Hand rows claimed before a crash to deliver again; mark older than grace failed.

        With a lease, only claims nobody renewed for a whole lease: the others are being
        posted by a live instance.
        """
        now = self._clock()
        rows = await self._off_loop(self._in_flight, now)
        for row in rows:
            log.info("resuming delivery %s of %s to group %s", row.id, row.lesson_slug,
                     row.group_id)
            await self._hand_over(row)
        return rows

    async def keep_leases(self) -> list[Delivery]:
        """Renew the claims this instance still holds, then take over the abandoned ones."""
        held = set(self._held)
        renewed = await self._off_loop(self._renew, self._clock(), held)
        self._held -= held - renewed  # posted or failed since: no longer ours to renew
        return await self.resume_in_flight()

    def _renew(self, now: datetime, held: set[int]) -> set[int]:
        """Renew the claims in `held` still claimed; the ids renewed."""
        if not held:
            return set()
        with self._session() as db:
            renewed = db.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(held), col(Delivery.status) == DeliveryStatus.CLAIMED)
                .values(claimed_at=now)
                .returning(col(Delivery.id))).scalars().all()
            db.commit()
        return set(renewed)

    def _in_flight(self, now: datetime) -> list[Delivery]:
        resume = []
        with self._session() as db:
            for row in ledger.in_flight(db):
                assert row.id is not None
                if row.id in self._held:
                    continue
                if self._lease is not None and now - row.claimed_at < self._lease:
                    continue  # a live instance renews it
                if now - row.claimed_at > self._grace:
                    minutes = int(self._grace.total_seconds() // 60)
                    ledger.mark_failed(db, row.id, INTERRUPTED.format(minutes=minutes))
                # With a lease, the row is ours only if no other instance took it over first.
                elif self._lease is None or ledger.take_over(db, row, now):
                    resume.append(row)
            db.commit()
        return resume

    async def retry_delivery(self, delivery_id: int) -> Delivery:
        """Claim a failed or missed delivery again and hand it to deliver (the retry button)."""

        def claim_again() -> Delivery:
            with self._session() as db:
                row = ledger.retry(db, delivery_id)
                db.commit()
                return row

        row = await self._off_loop(claim_again)
        await self._hand_over(row)
        return row

    async def run_due(self, now: datetime | None = None) -> list[Delivery]:
        """Claim every occurrence due by `now` (late within grace, else missed) and deliver it.

        Then fire the timers due by `now` the same way.
        """
        now = now or self._clock()
        claimed = await self._off_loop(self._claim_due, now)
        for row in claimed:
            await self._hand_over(row)
        await self._timers.fire(now)
        return claimed

    async def fire_timers(self, now: datetime | None = None) -> list[Timer]:
        """Fire the timers due by `now` alone (run_due fires them too, after the lessons)."""
        return await self._timers.fire(now or self._clock())

    async def _hand_over(self, row: Delivery) -> None:
        assert row.id is not None
        if self._lease is not None:  # renewed until posted (see keep_leases)
            self._held.add(row.id)
        try:
            await self._deliver(row)
        except Exception:  # one group's failure must not stop the others
            log.exception("handing delivery %s to the bot failed", row.id)

    def _claim_due(self, now: datetime) -> list[Delivery]:
        claimed: list[Delivery] = []
        with self._session() as db:
            for target, schedule in due_targets(db, now):
                claimed.extend(self._claim_target(db, target, schedule, now))
            # Claims and the advanced next_due commit together, before anything is delivered.
            db.commit()
        return claimed

    def _occurrences(
        self, target: ScheduleTarget, schedule: Schedule, now: datetime
    ) -> tuple[list[datetime], list[datetime], datetime | None]:
        """(missed, to post, next due) for one target, without touching the database."""
        horizon = now - self._grace
        missed: list[datetime] = []
        post: list[datetime] = []
        occurrence = target.next_due
        while occurrence is not None and occurrence <= now:
            if occurrence >= horizon:
                post.append(occurrence)
            elif len(missed) < MISSED_CAP:
                missed.append(occurrence)
            else:
                log.warning("schedule %s, group %s: over %d occurrences missed; skipping ahead",
                            schedule.id, target.group_id, MISSED_CAP)
                after = horizon - ONE_MICROSECOND
                occurrence = next_occurrence(schedule, target.timezone, after)
                continue
            occurrence = next_occurrence(schedule, target.timezone, occurrence)
        return missed, post, occurrence

    def _claim_target(
        self, db: Session, target: ScheduleTarget, schedule: Schedule, now: datetime
    ) -> list[Delivery]:
        try:
            missed, post, next_due = self._occurrences(target, schedule, now)
        except Exception:  # one broken schedule must not hold up the others
            log.exception("schedule %s cannot be evaluated; disabling group %s",
                          schedule.id, target.group_id)
            target.next_due = None
            db.add(target)
            return []
        slug, group_id = schedule.lesson_slug, target.group_id
        for occurrence in missed:
            row = ledger.record_missed(db, lesson_slug=slug, group_id=group_id,
                                       occurrence=occurrence, schedule_id=schedule.id)
            if row is not None:
                log.warning("missed %s for group %s due at %s (down longer than grace)",
                            slug, group_id, occurrence.isoformat())
        claimed = []
        for occurrence in post:
            row = ledger.claim(db, lesson_slug=slug, group_id=group_id, occurrence=occurrence,
                               schedule_id=schedule.id, late=now - occurrence > LATE_AFTER)
            if row is not None:
                claimed.append(row)
        target.next_due = next_due
        db.add(target)
        return claimed

    async def prerender_due(self, now: datetime | None = None) -> list[str]:
        """Render ahead the audio of lessons due within prerender_ahead; returns their slugs."""
        if self._prerender is None:
            return []
        until = (now or self._clock()) + self._prerender_ahead

        def slugs() -> list[str]:
            with self._session() as db:
                return lessons_due(db, until)

        due = await self._off_loop(slugs)
        for slug in due:
            try:
                await self._prerender(slug)
            except Exception:  # audio rendered later, at posting time, is still posted
                log.exception("rendering %s ahead failed", slug)
        return due
