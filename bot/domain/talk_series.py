"""Night talks that repeat: a series' rhythm, and how it reads (每月第一个星期五 晚上7点半)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlmodel import Session

from bot import texts
from bot.core.models import NightTalk, NightTalkSeries, NightTalkSeriesStatus
from bot.domain.talk_texts import clock_text
from bot.domain.talk_time import Repeat, RepeatKind


def repeat_of(series: NightTalkSeries) -> Repeat:
    """The rhythm a stored series keeps."""
    return Repeat(RepeatKind(series.kind), time(series.hour, series.minute),
                  weekday=series.weekday, ordinal=series.ordinal, day=series.day)


def new_series(group_id: int, repeat: Repeat, *, topic: str, place: str, host: str,
               length_minutes: int, created_by: str, created_at: datetime) -> NightTalkSeries:
    """A series (awaiting confirmation) keeping `repeat`."""
    return NightTalkSeries(group_id=group_id, topic=" ".join(topic.split()), place=place.strip(),
                           host=host.strip(), kind=repeat.kind.value, weekday=repeat.weekday,
                           ordinal=repeat.ordinal, day=repeat.day, hour=repeat.clock.hour,
                           minute=repeat.clock.minute, length_minutes=length_minutes,
                           created_by=created_by, created_at=created_at)


def rhythm_text(repeat: Repeat) -> str:
    """The rhythm as people say it: 「每月第一个星期五 晚上7点半」."""
    weekday = texts.NIGHT_WEEKDAYS[repeat.weekday]
    # clock_text reads a moment; any day at that clock will do, in UTC to keep it as it is.
    clock = clock_text(datetime.combine(date(2026, 1, 1), repeat.clock, tzinfo=UTC), "UTC")
    if repeat.kind is RepeatKind.WEEKLY:
        return texts.TALK_EVERY_WEEK.format(weekday=weekday, time=clock)
    if repeat.kind is RepeatKind.MONTHLY_DAY:
        return texts.TALK_EVERY_MONTH_DAY.format(day=repeat.day, time=clock)
    nth = texts.TALK_LAST if repeat.ordinal == -1 else texts.TALK_NTH[repeat.ordinal - 1]
    return texts.TALK_EVERY_MONTH_WEEKDAY.format(nth=nth, weekday=weekday, time=clock)


def repeat_note(db: Session, talk: NightTalk) -> str:
    """「每月第一个星期五 晚上7点半」 for a talk of a series not stopped; "" otherwise."""
    series = db.get(NightTalkSeries, talk.series_id) if talk.series_id else None
    if series is None or series.status == NightTalkSeriesStatus.CANCELLED:
        return ""
    return rhythm_text(repeat_of(series))
