"""Night talks awaiting the facilitator's 确认, and cancelling a whole series."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import (
    Group,
    NightTalk,
    NightTalkSeries,
    NightTalkSeriesStatus,
    NightTalkStatus,
)
from bot.domain.nighttalks import cancel_night_talk
from bot.domain.talk_schedule import DEFAULT_LENGTH, DRAFT_LIFE, LIVE, schedule_night_talk
from bot.domain.talk_series import new_series, repeat_of, rhythm_text
from bot.domain.talk_texts import talk_fields, when_text
from bot.domain.talk_time import TalkTime

log = logging.getLogger(__name__)


def draft_night_talk(db: Session, *, group: Group, read: TalkTime, topic: str, place: str,
                     host: str, created_by: str, now: datetime,
                     length: timedelta = DEFAULT_LENGTH) -> NightTalk:
    """A talk (or the first of a series) kept until its facilitator confirms it; it replaces
    whatever that facilitator left unconfirmed in the group."""
    assert group.id is not None, "a stored group has an id"
    drop_drafts(db, group.id, created_by, now)
    series_id = None
    if read.repeat is not None:
        series = new_series(group.id, read.repeat, topic=topic, place=place, host=host,
                            length_minutes=int(length.total_seconds() // 60),
                            created_by=created_by, created_at=now)
        db.add(series)
        db.flush()
        series_id = series.id
    return schedule_night_talk(db, group=group, topic=topic, starts_at=read.starts_at,
                               ends_at=read.starts_at + length, place=place, host=host,
                               created_by=created_by, now=now, draft=True, series_id=series_id)


def latest_draft(db: Session, group_id: int, created_by: str, now: datetime
                 ) -> NightTalk | None:
    """The newest talk `created_by` left unconfirmed in the group, if it is still fresh."""
    return db.exec(select(NightTalk).where(
        NightTalk.group_id == group_id, NightTalk.created_by == created_by,
        NightTalk.status == NightTalkStatus.DRAFT, col(NightTalk.created_at) > now - DRAFT_LIFE)
        .order_by(col(NightTalk.created_at).desc(), col(NightTalk.id).desc())).first()


def drop_drafts(db: Session, group_id: int, created_by: str, now: datetime) -> int:
    """Forget what `created_by` left unconfirmed in the group; how many talks that was."""
    drafts = list(db.exec(select(NightTalk).where(
        NightTalk.group_id == group_id, NightTalk.created_by == created_by,
        NightTalk.status == NightTalkStatus.DRAFT)))
    for talk in drafts:
        assert talk.id is not None
        cancel_night_talk(db, talk.id, now=now)
        series = db.get(NightTalkSeries, talk.series_id) if talk.series_id else None
        if series is not None and series.status == NightTalkSeriesStatus.DRAFT:
            series.status = NightTalkSeriesStatus.CANCELLED
            db.add(series)
    return len(drafts)


def list_drafts(db: Session, now: datetime) -> list[NightTalk]:
    """Talks still awaiting confirmation, soonest first."""
    return list(db.exec(select(NightTalk).where(
        NightTalk.status == NightTalkStatus.DRAFT, col(NightTalk.created_at) > now - DRAFT_LIFE)
        .order_by(col(NightTalk.starts_at), col(NightTalk.id))))


def list_series(db: Session, *, include_cancelled: bool = False) -> list[NightTalkSeries]:
    """Series that go on (or all of them), oldest first."""
    query = select(NightTalkSeries).order_by(col(NightTalkSeries.id))
    if not include_cancelled:
        query = query.where(NightTalkSeries.status == NightTalkSeriesStatus.ACTIVE)
    return list(db.exec(query))


def series_next(db: Session, series_id: int) -> NightTalk | None:
    """The series' talk that is on or coming."""
    return db.exec(select(NightTalk).where(
        NightTalk.series_id == series_id, col(NightTalk.status).in_(LIVE))
        .order_by(col(NightTalk.starts_at))).first()


def understood_text(db: Session, talk: NightTalk, group: Group, now: datetime) -> str:
    """What the bot understood, in words, for the facilitator to confirm."""
    fields = talk_fields(talk, group, now)
    when = when_text(talk.starts_at, group.timezone, now)
    series = db.get(NightTalkSeries, talk.series_id) if talk.series_id else None
    if series is None:
        return texts.TALK_CONFIRM_ONE.format(when=when, **fields)
    return texts.TALK_CONFIRM_SERIES.format(rhythm=rhythm_text(repeat_of(series)), when=when,
                                            **fields)
