"""Suggestion queries for the console: the filtered board, its choices, the live list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Group, NightTalk, Suggestion, SuggestionStatus
from bot.domain.figures import (
    FIRST_DAY,
    LAST_DAY,
    ReportError,
    ReportFilter,
    check_day,
    group_zones,
    in_period,
)
from bot.domain.nighttalks import LIVE
from bot.domain.suggestions import CATEGORIES

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_QUERY = 100


@dataclass(frozen=True)
class BoardFilter:
    """What the suggestions board shows; every field empty shows everything but merged ones."""

    start: date | None = None
    end: date | None = None
    group_id: int | None = None
    hamlet: str | None = None
    topic: str | None = None
    status: SuggestionStatus | None = None
    night_talk_id: int | None = None
    text: str | None = None
    merged: bool = False  # show merged duplicates too
    problems: tuple[str, ...] = field(default=(), compare=False)

    def query(self, **override: Any) -> dict[str, str]:
        """The filter as GET parameters, so a page of the board can be bookmarked."""
        values: dict[str, Any] = {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "group": self.group_id, "hamlet": self.hamlet, "topic": self.topic,
            "status": self.status.value if self.status else None, "talk": self.night_talk_id,
            "q": self.text, "merged": "1" if self.merged else None}
        values.update(override)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _date(text: str, problems: list[str]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return check_day(date.fromisoformat(text))
    except ReportError as exc:
        problems.append(str(exc))
        return None
    except ValueError:
        problems.append(texts.ADMIN_SUG_BAD_DATE.format(text=text))
        return None


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


def parse_board_filter(query: Mapping[str, str]) -> BoardFilter:
    """A board filter from GET parameters; what cannot be read is left out and named."""
    problems: list[str] = []
    start = _date(query.get("from", ""), problems)
    end = _date(query.get("to", ""), problems)
    if start and end and start > end:
        problems.append(texts.ADMIN_SUG_BAD_PERIOD.format(start=start, end=end))
        start = end = None
    status_text = query.get("status", "").strip()
    status = (SuggestionStatus(status_text)
              if status_text in {s.value for s in SuggestionStatus} else None)
    topic = query.get("topic", "").strip()
    return BoardFilter(
        start=start, end=end, group_id=_whole(query.get("group", "")),
        hamlet=query.get("hamlet", "").strip() or None,
        topic=topic if topic in CATEGORIES else None, status=status,
        night_talk_id=_whole(query.get("talk", "")),
        text=query.get("q", "").strip()[:MAX_QUERY] or None,
        merged=query.get("merged", "") == "1", problems=tuple(problems))


def board_conditions(db: Session, f: BoardFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions picking the suggestions the board shows."""
    conditions: list[ColumnElement[bool]] = []
    if not f.merged:
        conditions.append(col(Suggestion.merged_into).is_(None))
    if f.start is not None or f.end is not None:
        # The same days as the reports: each group's own time zone decides the day.
        # A period open at one end reaches as far as a report can.
        period = ReportFilter(f.start or FIRST_DAY, f.end or LAST_DAY, group_id=f.group_id)
        conditions.append(in_period(col(Suggestion.created_at), col(Suggestion.group_id),
                                    period, group_zones(db)))
    if f.group_id is not None:
        conditions.append(col(Suggestion.group_id) == f.group_id)
    if f.hamlet is not None:
        conditions.append(col(Suggestion.hamlet) == f.hamlet)
    if f.topic is not None:
        conditions.append(col(Suggestion.category) == f.topic)
    if f.status is not None:
        conditions.append(col(Suggestion.status) == f.status)
    if f.night_talk_id is not None:
        conditions.append(col(Suggestion.night_talk_id) == f.night_talk_id)
    if f.text is not None:
        conditions.append(col(Suggestion.text).contains(f.text, autoescape=True))
    return conditions


def board(db: Session, f: BoardFilter, page: int = 1, per_page: int = PER_PAGE
          ) -> tuple[list[Suggestion], int]:
    """One page of the board, newest first, and how many suggestions the filter matches."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    where = board_conditions(db, f)
    total = db.exec(select(func.count(col(Suggestion.id))).where(*where)).one()
    rows = db.exec(select(Suggestion).where(*where).order_by(col(Suggestion.id).desc())
                   .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    """How many pages `total` rows fill (at least one, so an empty board has a page)."""
    return max(1, -(-total // per_page))


def hamlets(db: Session) -> list[str]:
    """Every hamlet a group or a suggestion names, for the board's choices."""
    known = set(db.exec(select(Group.hamlet).distinct()).all())
    known |= set(db.exec(select(Suggestion.hamlet).distinct()).all())
    return sorted(h for h in known if h)


def groups(db: Session) -> list[Group]:
    """Every group, by name."""
    return list(db.exec(select(Group).order_by(col(Group.name), col(Group.id))))


def room_url(group: Group | None) -> str:
    """Where the web chat shows this group's room; "" for a group on another platform."""
    if group is None or group.platform != "web":
        return ""
    return f"/room/{quote(group.chat_id, safe='')}"


def talk_suggestions_after(db: Session, night_talk_id: int, after: int = 0) -> list[Suggestion]:
    """A night talk's suggestions numbered above `after`, oldest first (the live list)."""
    query = (select(Suggestion)
             .where(Suggestion.night_talk_id == night_talk_id, col(Suggestion.id) > after)
             .order_by(col(Suggestion.id)))
    return list(db.exec(query))


def talk_size(db: Session, night_talk_id: int) -> int:
    """How many suggestions were raised in a night talk, merged duplicates included."""
    return db.exec(select(func.count(col(Suggestion.id)))
                   .where(Suggestion.night_talk_id == night_talk_id)).one()


def talk_counts(db: Session, ids: list[int]) -> dict[int, int]:
    """How many suggestions each of these night talks collected (merged ones left out)."""
    if not ids:
        return {}
    rows = db.exec(select(Suggestion.night_talk_id, func.count(col(Suggestion.id)))
                   .where(col(Suggestion.night_talk_id).in_(ids),
                          col(Suggestion.merged_into).is_(None))
                   .group_by(col(Suggestion.night_talk_id))).all()
    return {talk_id: n for talk_id, n in rows if talk_id is not None}


def recent_talks(db: Session, limit: int = 30) -> list[NightTalk]:
    """Night talks that are scheduled or open, soonest first, then the latest past ones."""
    live = col(NightTalk.status).in_(LIVE)
    upcoming = db.exec(select(NightTalk).where(live)
                       .order_by(col(NightTalk.starts_at), col(NightTalk.id))).all()
    past = db.exec(select(NightTalk).where(~live)
                   .order_by(col(NightTalk.starts_at).desc(), col(NightTalk.id).desc())
                   .limit(max(0, limit - len(upcoming)))).all()
    return [*upcoming, *past]
