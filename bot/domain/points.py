"""Points (积分): earned once per thing done, summed per person, ranked per group and month."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.models import Group, Member, PointsEntry
from scheduler.dbtypes import insert_once, utcnow

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

LISTEN = "listen"  # ref: the lesson delivery id
SUGGEST = "suggest"  # ref: the suggestion number
ADOPTED = "adopted"  # ref: the suggestion number
POINTS_KEY = ("group_id", "user_id", "reason", "ref")  # points are given once per thing done
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class PointsRules:
    """How many points each thing earns."""

    listen: int = 1
    suggest: int = 2
    adopted: int = 5

    @classmethod
    def of(cls, settings: Settings) -> PointsRules:
        """The values YEHUA_POINTS_* give."""
        return cls(listen=settings.points_listen, suggest=settings.points_suggest,
                   adopted=settings.points_adopted)


def award(
    db: Session,
    *,
    group_id: int,
    user_id: str,
    user_name: str,
    reason: str,
    ref: str,
    points: int,
    now: datetime | None = None,
    item_id: int | None = None,
) -> bool:
    """Give points once per (group, person, reason, ref); False when they were already given."""
    entry = PointsEntry(group_id=group_id, user_id=user_id, user_name=user_name, reason=reason,
                        ref=ref, points=points, created_at=now or utcnow(), item_id=item_id)
    new_id = insert_once(db, entry, POINTS_KEY)
    if new_id is None:
        return False
    log.info("group %s: %s earned %s points (%s %s)", group_id, user_id, points, reason, ref)
    return True


def _zone(db: Session, group_id: int) -> ZoneInfo:
    group = db.get(Group, group_id)
    return ZoneInfo(group.timezone if group is not None else DEFAULT_TIMEZONE)


def local_month(db: Session, group_id: int, now: datetime | None = None) -> date:
    """The first day of the month it is now where the group lives."""
    local = (now or utcnow()).astimezone(_zone(db, group_id))
    return date(local.year, local.month, 1)


def month_span(zone: ZoneInfo, month: date) -> tuple[datetime, datetime]:
    """The UTC instants where `month` begins and ends in `zone`."""
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    end = datetime(*following, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class _Total:
    user_id: str
    points: int
    last: datetime  # when they reached this total: earlier wins a tie on the leaderboard


def _totals(db: Session, group_id: int, month: date | None) -> list[_Total]:
    query = (
        select(PointsEntry.user_id, func.sum(PointsEntry.points),
               func.max(PointsEntry.created_at))
        .where(PointsEntry.group_id == group_id, col(PointsEntry.revoked_at).is_(None))
        .group_by(col(PointsEntry.user_id))
    )
    if month is not None:
        start, end = month_span(_zone(db, group_id), month)
        query = query.where(col(PointsEntry.created_at) >= start,
                            col(PointsEntry.created_at) < end)
    return [_Total(user_id, int(points), last)
            for user_id, points, last in db.exec(query) if points and points > 0]


def standing(db: Session, group_id: int, user_id: str, *, month: date | None = None
             ) -> tuple[int, int, int]:
    """(my points, my rank from 1 with ties sharing it, people with points); month=None: ever."""
    totals = _totals(db, group_id, month)
    mine = next((t.points for t in totals if t.user_id == user_id), 0)
    rank = 1 + sum(1 for t in totals if t.points > mine)
    return mine, rank, len(totals)


def _names(db: Session, group_id: int, user_ids: list[str]) -> dict[str, str]:
    # The member table has the current display name; people raised for (代提) only have entries.
    names = {
        m.user_id: m.display_name
        for m in db.exec(select(Member).where(Member.group_id == group_id,
                                              col(Member.user_id).in_(user_ids)))
    }
    for user_id in user_ids:
        if user_id not in names:
            latest = db.exec(
                select(PointsEntry.user_name)
                .where(PointsEntry.group_id == group_id, PointsEntry.user_id == user_id)
                .order_by(col(PointsEntry.created_at).desc(), col(PointsEntry.id).desc())
                .limit(1)
            ).one()
            names[user_id] = latest
    return names


def leaderboard(db: Session, group_id: int, month: date, limit: int = 10
                ) -> list[tuple[str, int]]:
    """The month's top people as (name, points), most first; a tie goes to who got there first."""
    totals = sorted(_totals(db, group_id, month), key=lambda t: (-t.points, t.last, t.user_id))
    top = totals[:limit]
    names = _names(db, group_id, [t.user_id for t in top])
    return [(names[t.user_id], t.points) for t in top]
