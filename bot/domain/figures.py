"""The figures a report states: counts and rates of suggestions, lessons sent and listens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, and_, cast, false, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Group, NightTalk, PointsEntry, Suggestion, SuggestionStatus
from bot.domain.suggestions import CATEGORIES
from scheduler.models import Delivery, DeliveryStatus

DEFAULT_TIMEZONE = "Asia/Shanghai"
LISTEN = "listen"  # PointsEntry.reason for a member who pressed 听完了; ref is the Delivery id
TAKEN_UP = (SuggestionStatus.ADOPTED, SuggestionStatus.IN_PROGRESS, SuggestionStatus.DONE)

Dimension = Literal["hamlet", "topic", "night_talk"]
# The days a report or the board may be asked about: wide enough for any village record, and
# narrow enough that every day's midnight, in any time zone, is a datetime Python can hold.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


class ReportError(ValueError):
    """A report request that cannot be met; the message is Chinese and shown as is."""


def check_day(day: date) -> date:
    """`day` if it lies from FIRST_DAY to LAST_DAY; else ReportError saying so in Chinese."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ReportError(texts.DATE_OUT_OF_RANGE.format(day=day.isoformat(), first=FIRST_DAY,
                                                         last=LAST_DAY))
    return day


@dataclass(frozen=True)
class ReportFilter:
    """Which suggestions and lessons a report covers.

    `start` and `end` are inclusive local dates, each group's own time zone deciding which day
    something happened on. `topic` (a category key) narrows suggestions only: lessons have none.
    """

    start: date
    end: date
    group_id: int | None = None
    hamlet: str | None = None
    topic: str | None = None
    # The moment "overdue" is judged at: the wall clock when None (the running bot's clock is
    # handed in by the console, so what it shows and what it exports agree).
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        check_day(self.start)
        check_day(self.end)
        if self.start > self.end:
            raise ReportError(texts.REPORT_BAD_PERIOD.format(start=self.start, end=self.end))


@dataclass(frozen=True)
class Figures:
    """What became of the suggestions collected in a period, and how lessons were heard.

    - collected: suggestions raised in the period, merged duplicates excluded;
      collected = new + adopted + declined.
    - adopted: those taken up, i.e. now adopted, in progress or done (one adopted and later
      declined counts as declined); in_progress and done are the parts of it in those states.
    - adoption_rate = adopted / collected; completion_rate = done / adopted; None when the
      denominator is 0. E.g. 12 collected, 7 adopted, 5 done -> 58.3% adoption, 71.4% completion.
    - lessons_sent: lesson posts (deliveries) sent to the groups in the period;
      listeners: how many times a member pressed 听完了 for one of them (person-times, 人次).
    """

    collected: int = 0
    adopted: int = 0
    in_progress: int = 0
    done: int = 0
    declined: int = 0
    new: int = 0
    adoption_rate: float | None = None
    completion_rate: float | None = None
    lessons_sent: int = 0
    listeners: int = 0

    @classmethod
    def from_counts(cls, counts: Mapping[SuggestionStatus, int], lessons_sent: int = 0,
                    listeners: int = 0) -> Figures:
        """Figures from the number of suggestions in each status."""
        adopted = sum(counts.get(s, 0) for s in TAKEN_UP)
        collected = sum(counts.values())
        done = counts.get(SuggestionStatus.DONE, 0)
        return cls(
            collected=collected, adopted=adopted,
            in_progress=counts.get(SuggestionStatus.IN_PROGRESS, 0), done=done,
            declined=counts.get(SuggestionStatus.DECLINED, 0),
            new=counts.get(SuggestionStatus.NEW, 0),
            adoption_rate=adopted / collected if collected else None,
            completion_rate=done / adopted if adopted else None,
            lessons_sent=lessons_sent, listeners=listeners,
        )


def percent(rate: float | None) -> str:
    """A rate as people write it: 0.58333 -> "58.3%"; no rate -> a dash."""
    return texts.REPORT_NO_RATE if rate is None else f"{rate * 100:.1f}%"


def category_label(key: str) -> str:
    """The Chinese label of a category key; an unknown key as it is."""
    entry = CATEGORIES.get(key)
    return entry[0] if entry else key


def hamlet_label(hamlet: str) -> str:
    """A hamlet's name, or a placeholder for suggestions raised where none was set."""
    return hamlet or texts.REPORT_NO_HAMLET


def local_date(value: date) -> str:
    """2026-03-05 -> 2026年3月5日."""
    return texts.REPORT_DATE.format(year=value.year, month=value.month, day=value.day)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def group_zones(db: Session) -> dict[int, ZoneInfo]:
    """Each group's time zone, by group id."""
    rows = db.exec(select(Group.id, Group.timezone)).all()
    return {gid: _zone(tz) for gid, tz in rows if gid is not None}


def in_period(moment: Any, group_column: Any, f: ReportFilter,
              zones: Mapping[int, ZoneInfo]) -> ColumnElement[bool]:
    """`moment` falls on a local day from f.start to f.end, in the zone of its row's group."""
    by_zone: dict[str, list[int]] = {}
    for gid, zone in zones.items():
        if f.group_id is None or gid == f.group_id:
            by_zone.setdefault(zone.key, []).append(gid)
    spans: list[ColumnElement[bool]] = []
    for key, ids in by_zone.items():
        zone = ZoneInfo(key)
        low = datetime.combine(f.start, time(), zone).astimezone(UTC)
        high = datetime.combine(f.end + timedelta(days=1), time(), zone).astimezone(UTC)
        span = and_(moment >= low, moment < high)
        # With one zone the id list is pointless, and with thousands of groups it is slow.
        spans.append(span if len(by_zone) == 1 else and_(group_column.in_(ids), span))
    return or_(*spans) if spans else false()


def suggestion_conditions(f: ReportFilter, zones: Mapping[int, ZoneInfo]
                          ) -> list[ColumnElement[bool]]:
    """WHERE conditions picking the suggestions a report covers."""
    conditions = [col(Suggestion.merged_into).is_(None),
                  in_period(col(Suggestion.created_at), col(Suggestion.group_id), f, zones)]
    if f.group_id is not None:
        conditions.append(col(Suggestion.group_id) == f.group_id)
    if f.hamlet is not None:
        conditions.append(col(Suggestion.hamlet) == f.hamlet)
    if f.topic is not None:
        conditions.append(col(Suggestion.category) == f.topic)
    return conditions


def _delivery_conditions(f: ReportFilter, zones: Mapping[int, ZoneInfo]
                         ) -> list[ColumnElement[bool]]:
    conditions = [col(Delivery.status) == DeliveryStatus.SENT,
                  in_period(col(Delivery.sent_at), col(Delivery.group_id), f, zones)]
    if f.group_id is not None:
        conditions.append(col(Delivery.group_id) == f.group_id)
    if f.hamlet is not None:
        conditions.append(col(Group.hamlet) == f.hamlet)
    return conditions


def _lessons(db: Session, f: ReportFilter, zones: Mapping[int, ZoneInfo]
             ) -> tuple[dict[str, int], dict[str, int]]:
    """Lessons sent and listens, by the hamlet of the group they went to."""
    where = _delivery_conditions(f, zones)
    on_group = col(Group.id) == col(Delivery.group_id)
    sent = db.exec(select(Group.hamlet, func.count(col(Delivery.id))).join(Group, on_group)
                   .where(*where).group_by(col(Group.hamlet))).all()
    listened = db.exec(
        select(Group.hamlet, func.count(col(PointsEntry.id)))
        .join(Delivery, and_(col(PointsEntry.ref) == cast(col(Delivery.id), String),
                             col(PointsEntry.group_id) == col(Delivery.group_id)))
        .join(Group, on_group)
        .where(col(PointsEntry.reason) == LISTEN, *where)
        .group_by(col(Group.hamlet))
    ).all()
    return dict(sent), dict(listened)


def figures(db: Session, f: ReportFilter) -> Figures:
    """The figures for everything `f` covers."""
    zones = group_zones(db)
    counts = db.exec(select(Suggestion.status, func.count(col(Suggestion.id)))
                     .where(*suggestion_conditions(f, zones))
                     .group_by(col(Suggestion.status))).all()
    sent, listened = _lessons(db, f, zones)
    by_status = {SuggestionStatus(status): n for status, n in counts}
    return Figures.from_counts(by_status, sum(sent.values()), sum(listened.values()))


def _talk_labels(db: Session, ids: list[int], zones: Mapping[int, ZoneInfo]
                 ) -> dict[int, tuple[datetime, str]]:
    talks = db.exec(select(NightTalk).where(col(NightTalk.id).in_(ids))).all()
    return {t.id: (t.starts_at, talk_label(t.topic, t.place, t.starts_at, t.group_id, zones))
            for t in talks if t.id is not None}


def talk_label(topic: str, place: str, starts_at: datetime, group_id: int,
               zones: Mapping[int, ZoneInfo]) -> str:
    """A night talk as a reader recognises it: its topic, day and place."""
    starts = starts_at.astimezone(zones.get(group_id, _zone(DEFAULT_TIMEZONE)))
    return texts.REPORT_TALK_LABEL.format(topic=topic, month=starts.month, day=starts.day,
                                          place=f" {place}" if place else "")


def breakdown(db: Session, f: ReportFilter, by: Dimension) -> list[tuple[str, Figures]]:
    """Figures per hamlet, topic (category) or night talk; lessons only per hamlet.

    Hamlets and topics come most suggestions first, night talks in the order they were held
    with suggestions raised outside any night talk last.
    """
    zones = group_zones(db)
    key_column: Any = {"hamlet": col(Suggestion.hamlet), "topic": col(Suggestion.category),
                       "night_talk": col(Suggestion.night_talk_id)}[by]
    rows = db.exec(select(key_column, Suggestion.status, func.count(col(Suggestion.id)))
                   .where(*suggestion_conditions(f, zones))
                   .group_by(key_column, col(Suggestion.status))).all()
    counts: dict[Any, dict[SuggestionStatus, int]] = {}
    for key, status, n in rows:
        counts.setdefault(key, {})[SuggestionStatus(status)] = n
    sent: dict[str, int] = {}
    listened: dict[str, int] = {}
    if by == "hamlet":
        sent, listened = _lessons(db, f, zones)
        for hamlet in sent.keys() | listened.keys():
            counts.setdefault(hamlet, {})
    result = [(key, Figures.from_counts(c, sent.get(key, 0), listened.get(key, 0)))
              for key, c in counts.items()]
    if by == "hamlet":
        result.sort(key=lambda kf: (-kf[1].collected, -kf[1].lessons_sent, kf[0]))
        return [(hamlet_label(key), fig) for key, fig in result]
    if by == "topic":
        result.sort(key=lambda kf: (-kf[1].collected, kf[0]))
        return [(category_label(key), fig) for key, fig in result]
    talks = _talk_labels(db, [k for k in counts if k is not None], zones)
    far = datetime.max.replace(tzinfo=UTC)
    result.sort(key=lambda kf: (talks[kf[0]][0] if kf[0] in talks else far, kf[0] or 0))
    return [(talks[key][1] if key in talks else texts.REPORT_NOT_IN_TALK, fig)
            for key, fig in result]


def describe_scope(db: Session, f: ReportFilter) -> str:
    """Which groups, hamlet and topic a report covers, in words: 群：…；类别：…"""
    parts = []
    if f.group_id is not None:
        group = db.get(Group, f.group_id)
        parts.append(texts.REPORT_SCOPE_GROUP.format(name=group.name if group else f.group_id))
    if f.hamlet is not None:
        parts.append(texts.REPORT_SCOPE_HAMLET.format(hamlet=hamlet_label(f.hamlet)))
    if f.topic is not None:
        parts.append(texts.REPORT_SCOPE_TOPIC.format(topic=category_label(f.topic)))
    return "；".join(parts) or texts.REPORT_SCOPE_ALL


def describe_period(f: ReportFilter) -> str:
    """统计时间：2026年1月1日至2026年12月31日"""
    return texts.REPORT_PERIOD.format(start=local_date(f.start), end=local_date(f.end))
