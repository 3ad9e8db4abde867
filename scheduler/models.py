"""Tables the scheduler owns: schedules, their targets, and the delivery ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.dbtypes import UTCDateTime, utcnow


class ScheduleKind(StrEnum):
    ONCE = "once"
    CRON = "cron"


class DeliveryStatus(StrEnum):
    CLAIMED = "claimed"  # claimed by a sender, not yet confirmed sent
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"  # due while the bot was down, outside the grace window


class Schedule(SQLModel, table=True):
    """A lesson to post once or on a cron rule, to one or more groups."""

    __tablename__ = "schedule"

    id: int | None = Field(default=None, primary_key=True)
    lesson_slug: str = Field(index=True)
    kind: ScheduleKind
    run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cron: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScheduleTarget(SQLModel, table=True):
    """One group a schedule posts to, with that group's time zone and next due occurrence."""

    __tablename__ = "schedule_target"
    __table_args__ = (UniqueConstraint("schedule_id", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", index=True)
    group_id: int = Field(index=True)
    timezone: str = "Asia/Shanghai"
    next_due: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Delivery(SQLModel, table=True):
    """The ledger: one row per (lesson, group, occurrence), claimed before anything is sent."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("lesson_slug", "group_id", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    lesson_slug: str = Field(index=True)
    group_id: int = Field(index=True)
    occurrence: datetime = Field(sa_type=UTCDateTime)
    schedule_id: int | None = Field(default=None, index=True)
    status: DeliveryStatus = Field(default=DeliveryStatus.CLAIMED, index=True)
    late: bool = False
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    text_message_id: str | None = None
    audio_message_id: str | None = None
    audio_pending: bool = False  # text went out, voice will follow
    speech_engine: str | None = None
    attempts: int = 0
    error: str | None = None


class Timer(SQLModel, table=True):
    """A one-off alarm for something other than a lesson (night-talk steps, leaderboards).

    The database is the truth: a timer fires once, and one missed while the bot was down fires
    late inside the grace window or is marked missed, like lesson deliveries.
    """

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # e.g. "nighttalk.open"; the app maps kinds to handlers
    ref: str  # what it is for, e.g. a night talk id, or "group:3:2026-12"
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="pending", index=True)  # pending, fired, missed, cancelled
    error: str | None = None
