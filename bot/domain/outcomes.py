"""The figures the seeds count by: night talks held, who came, what was raised and how fast it
was done, in total and per group, 屋场 (hamlet) and topic.

Definitions (README, "Figures"):

- talks: night talks that opened (open or closed) with a start in the period;
- people: for each group, the distinct people checked in at any of its talks, plus every
  talk's walk-ins (people who came unnamed cannot be told apart, so they are summed);
  person_times (人次): everyone counted present at each talk, walk-ins included, summed;
- raised: suggestions raised in the period, merged duplicates excluded;
- adopted: those now adopted, in progress or done; done and declined: those in that state;
- adoption_rate = adopted / raised; completion_rate = done / adopted (None when 0 / 0);
- median_days and p90_days: days from raised to done (done_at - created_at) over the done ones;
  the 90th percentile is the nearest rank: the smallest time within which 90% were done;
- overdue: those raised in the period that are overdue (bot.domain.handling: past their
  deadline and neither done nor declined) at the moment the figures are made.

A talk belongs to the 屋场 named by its place when that is one of its group's hamlets, else
to its group's. Topics (categories) are the suggestions' own: talks have none, so the per-topic
rows show no talk figures, and a topic filter leaves talks and attendance as they are.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import (
    Attendance,
    Group,
    Hamlet,
    NightTalk,
    NightTalkStatus,
    Suggestion,
    SuggestionStatus,
)
from bot.domain.figures import (
    TAKEN_UP,
    ReportFilter,
    category_label,
    group_zones,
    hamlet_label,
    in_period,
    percent,
    suggestion_conditions,
)
from bot.domain.handling import overdue_clause
from scheduler.dbtypes import utcnow

Part = Literal["group", "hamlet", "topic"]
PARTS: tuple[Part, ...] = ("group", "hamlet", "topic")
HELD = (NightTalkStatus.OPEN, NightTalkStatus.CLOSED)
DAY_SECONDS = 86_400


def overdue_now(now: datetime) -> list[Any]:
    """WHERE conditions for a suggestion overdue at `now` (the handlers' own rule)."""
    return [overdue_clause(now)]


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values`: the smallest value at least `share` are within."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


@dataclass(frozen=True)
class Outcome:
    """The seeds' figures for one scope; talk figures are None where they do not apply."""

    talks: int | None = 0
    people: int | None = 0
    person_times: int | None = 0
    raised: int = 0
    adopted: int = 0
    done: int = 0
    declined: int = 0
    overdue: int = 0
    median_days: float | None = None
    p90_days: float | None = None

    @property
    def adoption_rate(self) -> float | None:
        """Adopted over raised."""
        return self.adopted / self.raised if self.raised else None

    @property
    def completion_rate(self) -> float | None:
        """Done over adopted."""
        return self.done / self.adopted if self.adopted else None


@dataclass
class _Tally:
    talks: int = 0
    seen: set[tuple[int, str]] = field(default_factory=set)
    walk_ins: int = 0
    present: int = 0
    raised: int = 0
    adopted: int = 0
    done: int = 0
    declined: int = 0
    overdue: int = 0
    days: list[float] = field(default_factory=list)

    def outcome(self, with_talks: bool = True) -> Outcome:
        talk_figures: dict[str, int | None] = (
            {"talks": self.talks, "people": len(self.seen) + self.walk_ins,
             "person_times": self.present + self.walk_ins} if with_talks
            else {"talks": None, "people": None, "person_times": None})
        return Outcome(raised=self.raised, adopted=self.adopted, done=self.done,
                       declined=self.declined, overdue=self.overdue,
                       median_days=statistics.median(self.days) if self.days else None,
                       p90_days=percentile(self.days, 0.9), **talk_figures)


@dataclass(frozen=True)
class Outcomes:
    """The total and the rows per group, hamlet and topic (most raised first)."""

    total: Outcome
    parts: Mapping[Part, list[tuple[str, Outcome]]]


class _Tallies:
    """One tally for the total and one per key of each part, filled row by row."""

    def __init__(self) -> None:
        self.total = _Tally()
        self.by: dict[Part, dict[Any, _Tally]] = {part: {} for part in PARTS}

    def each(self, keys: Mapping[Part, Any]) -> Iterable[_Tally]:
        yield self.total
        for part, key in keys.items():
            yield self.by[part].setdefault(key, _Tally())


def _suggestion_keys(group_id: int, hamlet: str, category: str) -> dict[Part, Any]:
    return {"group": group_id, "hamlet": hamlet, "topic": category}


def _count_suggestions(db: Session, f: ReportFilter, zones: Mapping[int, Any], now: datetime,
                       tallies: _Tallies) -> None:
    where = suggestion_conditions(f, zones)
    keys = (col(Suggestion.group_id), col(Suggestion.hamlet), col(Suggestion.category))
    run = db.connection().execute
    late = func.sum(case((and_(*overdue_now(now)), 1), else_=0))
    rows = run(sa_select(*keys, col(Suggestion.status), func.count(col(Suggestion.id)), late)
               .where(*where).group_by(*keys, col(Suggestion.status))).all()
    for group_id, hamlet, category, status, n, overdue in rows:
        for tally in tallies.each(_suggestion_keys(group_id, hamlet, category)):
            tally.raised += n
            tally.adopted += n if status in TAKEN_UP else 0
            tally.done += n if status == SuggestionStatus.DONE else 0
            tally.declined += n if status == SuggestionStatus.DECLINED else 0
            tally.overdue += int(overdue or 0)
    done = run(sa_select(*keys, col(Suggestion.created_at), col(Suggestion.done_at))
               .where(*where, col(Suggestion.status) == SuggestionStatus.DONE,
                      col(Suggestion.done_at).is_not(None)))
    for group_id, hamlet, category, created, finished in done:
        if finished is None:  # excluded by the query; the type does not know it
            continue
        days = max((finished - created).total_seconds(), 0) / DAY_SECONDS
        for tally in tallies.each(_suggestion_keys(group_id, hamlet, category)):
            tally.days.append(days)


def _count_talks(db: Session, f: ReportFilter, zones: Mapping[int, Any],
                 tallies: _Tallies) -> None:
    query = (sa_select(col(NightTalk.id), col(NightTalk.group_id), col(NightTalk.place),
                       col(NightTalk.walk_ins), col(Group.hamlet))
             .join(Group, col(Group.id) == col(NightTalk.group_id))
             .where(col(NightTalk.status).in_(HELD),
                    in_period(col(NightTalk.starts_at), col(NightTalk.group_id), f, zones)))
    if f.group_id is not None:
        query = query.where(col(NightTalk.group_id) == f.group_id)
    talks = db.connection().execute(query).all()
    if not talks:
        return
    group_ids = {t[1] for t in talks}
    known = set(db.exec(select(Hamlet.group_id, Hamlet.name)
                        .where(col(Hamlet.group_id).in_(group_ids))).all())
    hamlet_of: dict[int | None, str] = {}
    for talk_id, group_id, place, walk_ins, group_hamlet in talks:
        hamlet = place if (group_id, place) in known else group_hamlet
        if f.hamlet is not None and hamlet != f.hamlet:
            continue
        hamlet_of[talk_id] = hamlet
        for tally in tallies.each({"group": group_id, "hamlet": hamlet}):
            tally.talks += 1
            tally.walk_ins += walk_ins
    group_of: dict[int | None, int] = {t[0]: t[1] for t in talks}
    present = db.connection().execute(
        sa_select(col(Attendance.night_talk_id), col(Attendance.person))
        .where(col(Attendance.night_talk_id).in_(list(hamlet_of))))
    for talk_id, person in present:
        group_id = group_of[talk_id]
        for tally in tallies.each({"group": group_id, "hamlet": hamlet_of[talk_id]}):
            tally.present += 1
            tally.seen.add((group_id, person))


def outcomes(db: Session, f: ReportFilter, now: datetime | None = None) -> Outcomes:
    """The seeds' figures for everything `f` covers, overdue counted at `now`."""
    zones = group_zones(db)
    tallies = _Tallies()
    _count_suggestions(db, f, zones, now or f.as_of or utcnow(), tallies)
    _count_talks(db, f, zones, tallies)
    names = dict(db.exec(select(Group.id, Group.name)
                         .where(col(Group.id).in_(list(tallies.by["group"])))).all())
    labels: dict[Part, Callable[[Any], str]] = {
        "group": lambda key: names.get(key) or str(key), "hamlet": hamlet_label,
        "topic": category_label}
    parts: dict[Part, list[tuple[str, Outcome]]] = {}
    for part in PARTS:
        rows = [(labels[part](key), tally.outcome(with_talks=part != "topic"))
                for key, tally in tallies.by[part].items()]
        rows.sort(key=lambda row: (-row[1].raised, -(row[1].talks or 0), row[0]))
        parts[part] = rows
    return Outcomes(tallies.total.outcome(), parts)


def days_text(days: float | None) -> str:
    """Days as a report shows them: one decimal, a dash when there are none."""
    return texts.REPORT_NO_RATE if days is None else f"{days:.1f}"


def outcome_text(o: Outcome) -> str:
    """Talks, attendance, rates, time to done and overdue, in a sentence or two."""
    text = texts.OUTCOME_SUMMARY.format(
        talks=o.talks, people=o.people, person_times=o.person_times, raised=o.raised,
        adopted=o.adopted, adoption=percent(o.adoption_rate), done=o.done,
        completion=percent(o.completion_rate))
    if o.median_days is not None:
        text += texts.OUTCOME_SUMMARY_DAYS.format(median=days_text(o.median_days),
                                                  p90=days_text(o.p90_days))
    if o.overdue:
        return text + texts.OUTCOME_SUMMARY_OVERDUE.format(overdue=o.overdue)
    return text + texts.OUTCOME_SUMMARY_NONE_OVERDUE
