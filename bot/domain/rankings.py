"""Rankings (积分排名) by person and by household over a village's month or year, the member's
own balance and recent changes, for the posted lists, /积分 and the export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Group, Household, Member, PointsEntry, PointsItem
from bot.domain import households, shop

RECENT = 3  # changes shown by /积分


@dataclass(frozen=True)
class Period:
    """A calendar year, or one month of it, where the village lives."""

    year: int
    month: int | None = None

    def span(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants where the period begins and ends in `zone`."""
        if self.month is None:
            start, end = date(self.year, 1, 1), date(self.year + 1, 1, 1)
        else:
            start = date(self.year, self.month, 1)
            end = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return (datetime(start.year, start.month, 1, tzinfo=zone).astimezone(UTC),
                datetime(end.year, end.month, 1, tzinfo=zone).astimezone(UTC))

    def label(self) -> str:
        """「2026年」 or 「2026年5月」."""
        if self.month is None:
            return texts.RANK_YEAR.format(year=self.year)
        return texts.RANK_MONTH.format(year=self.year, month=self.month)


@dataclass(frozen=True)
class Place:
    """One line of a ranking: rank from 1 (ties share it), who, and their points."""

    rank: int
    key: str  # the person's user id, or the household's id
    name: str
    points: int


def village_groups(db: Session, group: Group) -> list[Group]:
    """The groups whose points count together with `group`'s: its village's, or itself alone."""
    if group.village_id is None:
        return [group]
    return list(db.exec(select(Group).where(Group.village_id == group.village_id)
                        .order_by(col(Group.id))))


def _ids(groups: list[Group]) -> list[int]:
    return [g.id for g in groups if g.id is not None]


def _ranked(rows: list[tuple[str, str, int, datetime | None]]) -> list[Place]:
    # Most points first; a tie is listed by who got there first, and shares the rank.
    rows = sorted(rows, key=lambda r: (-r[2], r[3] or datetime.max.replace(tzinfo=UTC), r[1]))
    places: list[Place] = []
    for n, (key, name, points, _last) in enumerate(rows):
        rank = places[-1].rank if places and places[-1].points == points else n + 1
        places.append(Place(rank, key, name, points))
    return places


def _person_totals(db: Session, groups: list[Group], period: Period
                   ) -> dict[str, tuple[int, datetime]]:
    start, end = period.span(ZoneInfo(groups[0].timezone))
    query = (select(PointsEntry.user_id, func.sum(PointsEntry.points),
                    func.max(PointsEntry.created_at))
             .where(col(PointsEntry.group_id).in_(_ids(groups)),
                    col(PointsEntry.revoked_at).is_(None),
                    col(PointsEntry.created_at) >= start, col(PointsEntry.created_at) < end)
             .group_by(col(PointsEntry.user_id)))
    return {user_id: (int(points), last) for user_id, points, last in db.exec(query)}


def person_names(db: Session, groups: list[Group], user_ids: list[str]) -> dict[str, str]:
    """The name each person goes by now; people raised for (代提) only have their entries."""
    names = {m.user_id: m.display_name for m in db.exec(
        select(Member).where(col(Member.group_id).in_(_ids(groups)),
                             col(Member.user_id).in_(user_ids)).order_by(col(Member.id)))}
    missing = [u for u in user_ids if u not in names]
    if missing:
        for user_id, name in db.exec(
                select(PointsEntry.user_id, PointsEntry.user_name)
                .where(col(PointsEntry.group_id).in_(_ids(groups)),
                       col(PointsEntry.user_id).in_(missing))
                .order_by(col(PointsEntry.created_at), col(PointsEntry.id))):
            names[user_id] = name  # the latest wins
    return names


def person_ranking(db: Session, group: Group, period: Period) -> list[Place]:
    """Everyone with points (or deductions) in the period, over the village's groups."""
    groups = village_groups(db, group)
    totals = _person_totals(db, groups, period)
    names = person_names(db, groups, list(totals))
    return _ranked([(user_id, names.get(user_id, user_id), points, last)
                    for user_id, (points, last) in totals.items()])


def households_of(db: Session, group: Group) -> dict[str, Household]:
    """Who belongs to which household of the village, by user id."""
    if group.village_id is None:
        return {}
    rows = db.exec(select(Member.user_id, Household)
                   .join(Household, col(Household.id) == col(Member.household_id))
                   .where(col(Member.group_id).in_(_ids(village_groups(db, group))),
                          Household.village_id == group.village_id))
    return {user_id: household for user_id, household in rows}


def household_ranking(db: Session, group: Group, period: Period) -> list[Place]:
    """Every household of the village with its members' points summed; none without a village."""
    if group.village_id is None:
        return []
    start, end = period.span(ZoneInfo(group.timezone))
    return [Place(h.rank, str(h.household_id), h.name, h.points)
            for h in households.household_ranking(db, group.village_id, start, end)]


def top(places: list[Place], n: int) -> list[Place]:
    """The first `n` lines."""
    return places[:n]


def bottom(places: list[Place], n: int, shown: int) -> list[Place]:
    """The last `n` lines not already among the first `shown`, last place last; none if n=0."""
    if n <= 0:
        return []
    return places[max(shown, len(places) - n):]


def balance(db: Session, group: Group, user_id: str) -> int:
    """Points the person has to spend: all they earned in the village's groups, less the shop."""
    if group.village_id is not None:
        return shop.balance(db, group.village_id, user_id)
    # A group without a village has no shop yet: everything earned there is still there.
    earned = db.exec(select(func.coalesce(func.sum(PointsEntry.points), 0))
                     .where(PointsEntry.group_id == group.id, PointsEntry.user_id == user_id,
                            col(PointsEntry.revoked_at).is_(None))).one()
    return int(earned)


@dataclass(frozen=True)
class Change:
    """One recent change of a member's points, as /积分 lists it."""

    what: str
    points: int
    when: date


def entry_label(entry: PointsEntry, item_names: dict[int, str]) -> str:
    """What an entry was for: its item, the built-in kind, or the awarder's note."""
    if entry.item_id is not None and entry.item_id in item_names:
        return item_names[entry.item_id]
    return texts.RANK_KINDS.get(entry.reason) or entry.note or texts.RANK_KIND_OTHER


def item_names(db: Session, item_ids: set[int]) -> dict[int, str]:
    """The current names of these items of a points list."""
    if not item_ids:
        return {}
    return {i.id: i.name for i in db.exec(select(PointsItem).where(col(PointsItem.id).in_(
        item_ids))) if i.id is not None}


def recent_changes(db: Session, group: Group, user_id: str, limit: int = RECENT
                   ) -> list[Change]:
    """The member's last few points that still count, newest first."""
    entries = db.exec(select(PointsEntry)
                      .where(col(PointsEntry.group_id).in_(_ids(village_groups(db, group))),
                             PointsEntry.user_id == user_id,
                             col(PointsEntry.revoked_at).is_(None))
                      .order_by(col(PointsEntry.created_at).desc(), col(PointsEntry.id).desc())
                      .limit(limit)).all()
    names = item_names(db, {e.item_id for e in entries if e.item_id is not None})
    zone = ZoneInfo(group.timezone)
    return [Change(entry_label(e, names), e.points, e.created_at.astimezone(zone).date())
            for e in entries]


@dataclass(frozen=True)
class MyPoints:
    """What /积分 tells one member."""

    balance: int
    rank: Place | None  # this month, in the village; None with nothing this month
    people: int
    household: Place | None
    households: int
    changes: list[Change]


def my_points(db: Session, group: Group, user_id: str, now: datetime) -> MyPoints:
    """The member's balance, this month's rank, their household's, and the last changes."""
    local = now.astimezone(ZoneInfo(group.timezone))
    month = Period(local.year, local.month)
    people = person_ranking(db, group, month)
    mine = next((p for p in people if p.key == user_id), None)
    member = db.exec(select(Member).where(Member.group_id == group.id,
                                          Member.user_id == user_id)).first()
    household: Place | None = None
    households: list[Place] = []
    if member is not None and member.household_id is not None:
        households = household_ranking(db, group, month)
        household = next((h for h in households if h.key == str(member.household_id)), None)
    return MyPoints(balance(db, group, user_id), mine, len(people), household,
                    len(households), recent_changes(db, group, user_id))
