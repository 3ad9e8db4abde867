"""Scheduling night talks: their steps as timers, drafts confirmed, series carried on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import (
    Group,
    NightTalk,
    NightTalkSeries,
    NightTalkSeriesStatus,
    NightTalkStatus,
)
from bot.domain.talk_series import repeat_of
from bot.domain.talk_texts import local_zone, when_text
from scheduler.dbtypes import utcnow
from scheduler.timers import add_timer

log = logging.getLogger(__name__)

ANNOUNCE = "nighttalk.announce"
REMIND_EVE = "nighttalk.remind_eve"
REMIND_30 = "nighttalk.remind_30"
OPEN = "nighttalk.open"
CLOSE = "nighttalk.close"
CANCEL = "nighttalk.cancel"
DEFAULT_LENGTH = timedelta(hours=2)
MAX_LENGTH = timedelta(hours=12)
EVE_AT = time(20, 0)
REMIND_BEFORE = timedelta(minutes=30)
MIN_GAP = timedelta(minutes=30)  # a reminder this soon after the announcement is only noise
PAST_TOLERANCE = timedelta(minutes=1)
DRAFT_LIFE = timedelta(days=1)  # an unconfirmed talk is forgotten after this
ANNOUNCE_AHEAD = timedelta(days=3)  # a series' talk is announced this long before it
SERIES_TRIES = 6  # dates a series may skip for other talks before it waits for the next change
MAX_TOPIC = 100
LIVE = (NightTalkStatus.SCHEDULED, NightTalkStatus.OPEN)


class NightTalkError(ValueError):
    """A night-talk request that cannot be carried out; the message is for the user, in Chinese."""


def talk_ref(talk_id: int) -> str:
    """The timer ref of a night talk's steps."""
    return f"nighttalk:{talk_id}"


def get_talk(db: Session, talk_id: int) -> NightTalk:
    """The night talk `talk_id`; NightTalkError if there is none."""
    talk = db.get(NightTalk, talk_id)
    if talk is None:
        raise NightTalkError(texts.NIGHT_ERR_NO_TALK.format(id=talk_id))
    return talk


def talk_id_of(talk: NightTalk) -> int:
    """A stored talk's id."""
    assert talk.id is not None, "a stored night talk has an id"
    return talk.id


def _clash(db: Session, group_id: int, starts_at: datetime, ends_at: datetime,
           exclude: int | None = None) -> NightTalk | None:
    query = select(NightTalk).where(
        NightTalk.group_id == group_id, col(NightTalk.status).in_(LIVE),
        col(NightTalk.starts_at) < ends_at, col(NightTalk.ends_at) > starts_at)
    if exclude is not None:
        query = query.where(NightTalk.id != exclude)
    return db.exec(query).first()


def _check_times(db: Session, group: Group, starts_at: datetime, ends_at: datetime,
                 now: datetime, exclude: int | None = None) -> None:
    assert group.id is not None, "a stored group has an id"
    if starts_at < now - PAST_TOLERANCE:
        raise NightTalkError(texts.NIGHT_ERR_PAST.format(
            when=when_text(starts_at, group.timezone, now)))
    if ends_at <= starts_at:
        raise NightTalkError(texts.NIGHT_ERR_END)
    if ends_at - starts_at > MAX_LENGTH:
        raise NightTalkError(texts.NIGHT_ERR_LENGTH.format(
            hours=int(MAX_LENGTH.total_seconds() // 3600)))
    clash = _clash(db, group.id, starts_at, ends_at, exclude)
    if clash is not None:
        raise NightTalkError(texts.NIGHT_ERR_OVERLAP.format(
            id=clash.id, when=when_text(clash.starts_at, group.timezone, now), topic=clash.topic))


def _arm(db: Session, talk: NightTalk, group: Group, now: datetime,
         announce_at: datetime | None = None) -> None:
    """Set the talk's steps: announce, remind the evening before and half an hour before, open,
    close."""
    ref = talk_ref(talk_id_of(talk))
    add_timer(db, ANNOUNCE, ref, announce_at or now)
    local_start = talk.starts_at.astimezone(local_zone(group.timezone))
    eve = datetime.combine(local_start.date() - timedelta(days=1), EVE_AT,
                           tzinfo=local_start.tzinfo)
    if eve >= now + MIN_GAP:
        add_timer(db, REMIND_EVE, ref, eve)
    if talk.starts_at - REMIND_BEFORE >= now + MIN_GAP:
        add_timer(db, REMIND_30, ref, talk.starts_at - REMIND_BEFORE)
    add_timer(db, OPEN, ref, talk.starts_at)
    add_timer(db, CLOSE, ref, talk.ends_at)


def schedule_night_talk(db: Session, *, group: Group, topic: str, starts_at: datetime,
                        ends_at: datetime | None = None, place: str = "", host: str = "",
                        created_by: str = "", now: datetime | None = None, draft: bool = False,
                        series_id: int | None = None, announce_at: datetime | None = None
                        ) -> NightTalk:
    """Schedule a night talk and its steps (announce, remind, open, close); a draft has none
    until it is confirmed."""
    now = now or utcnow()
    assert group.id is not None, "a stored group has an id"
    topic = " ".join(topic.split())
    if not topic:
        raise NightTalkError(texts.NIGHT_ERR_NO_TOPIC)
    if len(topic) > MAX_TOPIC:
        raise NightTalkError(texts.NIGHT_ERR_TOPIC_LONG.format(limit=MAX_TOPIC))
    ends_at = ends_at or starts_at + DEFAULT_LENGTH
    _check_times(db, group, starts_at, ends_at, now)
    talk = NightTalk(group_id=group.id, topic=topic, place=place.strip(), host=host.strip(),
                     starts_at=starts_at, ends_at=ends_at, created_by=created_by, created_at=now,
                     series_id=series_id,
                     status=NightTalkStatus.DRAFT if draft else NightTalkStatus.SCHEDULED)
    db.add(talk)
    db.flush()
    if not draft:
        _arm(db, talk, group, now, announce_at)
    log.info("night talk %s %s for group %s at %s", talk.id,
             "drafted" if draft else "scheduled", group.id, starts_at.isoformat())
    return talk


def confirm_night_talk(db: Session, talk_id: int, *, now: datetime | None = None) -> NightTalk:
    """The facilitator's 确认: a draft becomes scheduled with its steps; its series goes on."""
    now = now or utcnow()
    talk = get_talk(db, talk_id)
    if talk.status == NightTalkStatus.SCHEDULED:
        return talk
    if talk.status != NightTalkStatus.DRAFT or now - talk.created_at > DRAFT_LIFE:
        raise NightTalkError(texts.TALK_ERR_NOT_DRAFT.format(id=talk_id))
    group = db.get(Group, talk.group_id)
    assert group is not None, "a night talk's group is kept"
    series = db.get(NightTalkSeries, talk.series_id) if talk.series_id else None
    if series is not None and talk.starts_at <= now:
        # Confirmed after its first date went by: the series begins with the next one.
        length = talk.ends_at - talk.starts_at
        local_now = now.astimezone(local_zone(group.timezone))
        talk.starts_at = repeat_of(series).next_after(local_now).astimezone(UTC)
        talk.ends_at = talk.starts_at + length
    _check_times(db, group, talk.starts_at, talk.ends_at, now, exclude=talk_id)
    talk.status = NightTalkStatus.SCHEDULED
    db.add(talk)
    if series is not None:
        series.status = NightTalkSeriesStatus.ACTIVE
        db.add(series)
    db.flush()
    _arm(db, talk, group, now)
    log.info("night talk %s confirmed", talk_id)
    return talk


def schedule_next_of_series(db: Session, series: NightTalkSeries, after: datetime,
                            now: datetime) -> NightTalk | None:
    """The series' next talk after `after`, scheduled; announced a few days ahead of it."""
    group = db.get(Group, series.group_id)
    assert group is not None, "a series' group is kept"
    repeat = repeat_of(series)
    zone = local_zone(group.timezone)
    at = max(after, now).astimezone(zone)
    for _ in range(SERIES_TRIES):
        at = repeat.next_after(at)
        starts = at.astimezone(UTC)
        try:
            return schedule_night_talk(
                db, group=group, topic=series.topic, starts_at=starts,
                ends_at=starts + timedelta(minutes=series.length_minutes), place=series.place,
                host=series.host, created_by=series.created_by, now=now, series_id=series.id,
                announce_at=max(now, starts - ANNOUNCE_AHEAD))
        except NightTalkError as exc:  # another talk then: the series skips that date
            log.info("series %s skips %s: %s", series.id, starts.isoformat(), exc)
    return None


def follow_series(db: Session, talk: NightTalk, now: datetime) -> None:
    """When one talk of a series is over or called off, the next one is put on."""
    if talk.series_id is None:
        return
    series = db.get(NightTalkSeries, talk.series_id)
    if series is None or series.status != NightTalkSeriesStatus.ACTIVE:
        return
    later = db.exec(select(NightTalk).where(
        NightTalk.series_id == series.id, col(NightTalk.status).in_(LIVE),
        col(NightTalk.starts_at) > talk.starts_at)).first()
    if later is None:
        schedule_next_of_series(db, series, talk.starts_at, now)


def end_series(db: Session, series_id: int) -> list[int]:
    """Stop a series: no more talks are put on. The ids of its coming talks, to call off."""
    series = db.get(NightTalkSeries, series_id)
    if series is None:
        raise NightTalkError(texts.TALK_ERR_NO_SERIES.format(id=series_id))
    series.status = NightTalkSeriesStatus.CANCELLED
    db.add(series)
    db.flush()
    coming = db.exec(select(NightTalk.id).where(
        NightTalk.series_id == series_id,
        col(NightTalk.status).in_((NightTalkStatus.SCHEDULED, NightTalkStatus.DRAFT))))
    log.info("night-talk series %s ended", series_id)
    return [talk_id for talk_id in coming if talk_id is not None]
