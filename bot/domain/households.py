"""Households (户) of a village: made, renamed, removed, people placed in one, imported from a
sheet all or nothing, and ranked by the points their people earned.

A household ranks by points earned (awards less deductions, revoked awards left out); what its
people spend in the shop does not lower it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from bot import texts
from bot.core.models import Household, Member, PointsEntry
from bot.domain.village_members import ImportRefused, match_people, village_group_ids

log = logging.getLogger(__name__)

HOUSEHOLD_NAME_MAX = 40


class HouseholdError(ValueError):
    """A refused household change; the message is Chinese and shown as is."""


@dataclass(frozen=True)
class HouseholdSize:
    """A household with how many people are placed in it."""

    id: int
    name: str
    people: int


@dataclass(frozen=True)
class HouseholdRank:
    """A household's place in a ranking: equal points share a rank."""

    rank: int
    household_id: int
    name: str
    points: int
    people: int


@dataclass(frozen=True)
class HouseholdRow:
    """One row of a household sheet: a household's name and the people to place in it."""

    row: int
    name: str
    people: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    """What an accepted household sheet did."""

    created: int
    placed: int


def clean_household_name(name: str) -> str:
    """A household name trimmed, or HouseholdError if it is empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise HouseholdError(texts.HOUSEHOLD_EMPTY)
    if len(name) > HOUSEHOLD_NAME_MAX:
        raise HouseholdError(texts.HOUSEHOLD_TOO_LONG.format(n=HOUSEHOLD_NAME_MAX))
    return name


def _people_per_household(db: Session, village_id: int) -> dict[int, set[str]]:
    groups = village_group_ids(db, village_id)
    rows = db.exec(select(Member.household_id, Member.user_id)
                   .where(col(Member.group_id).in_(groups),
                          col(Member.household_id).is_not(None)))
    people: dict[int, set[str]] = defaultdict(set)
    for household_id, user_id in rows:
        if household_id is not None:
            people[household_id].add(user_id)
    return people


def list_households(db: Session, village_id: int) -> list[HouseholdSize]:
    """The village's households by name, each with how many people are in it."""
    people = _people_per_household(db, village_id)
    return [HouseholdSize(h.id or 0, h.name, len(people.get(h.id or 0, ())))
            for h in db.exec(select(Household).where(Household.village_id == village_id)
                             .order_by(col(Household.name)))]


def find_household(db: Session, village_id: int, name: str) -> Household | None:
    """The village's household called `name`, if any."""
    return db.exec(select(Household).where(Household.village_id == village_id,
                                           Household.name == " ".join(name.split()))).first()


def get_household(db: Session, village_id: int, household_id: int) -> Household:
    """The village's household with this id, or HouseholdError."""
    household = db.get(Household, household_id)
    if household is None or household.village_id != village_id:
        raise HouseholdError(texts.HOUSEHOLD_GONE)
    return household


def add_household(db: Session, village_id: int, name: str) -> Household:
    """Add a household to the village; HouseholdError if one has that name already."""
    name = clean_household_name(name)
    if find_household(db, village_id, name) is not None:
        raise HouseholdError(texts.HOUSEHOLD_EXISTS.format(name=name))
    household = Household(village_id=village_id, name=name)
    db.add(household)
    db.flush()
    log.info("village %s: household %s added", village_id, household.id)
    return household


def rename_household(db: Session, village_id: int, household_id: int, name: str) -> Household:
    """Rename a household; its people stay in it."""
    household = get_household(db, village_id, household_id)
    name = clean_household_name(name)
    other = find_household(db, village_id, name)
    if other is not None and other.id != household.id:
        raise HouseholdError(texts.HOUSEHOLD_EXISTS.format(name=name))
    household.name = name
    db.add(household)
    db.flush()
    return household


def remove_household(db: Session, village_id: int, household_id: int) -> tuple[str, int]:
    """Remove a household; its people belong to none. Its name and how many people it had."""
    household = get_household(db, village_id, household_id)
    people = len(_people_per_household(db, village_id).get(household_id, ()))
    db.exec(update(Member).where(col(Member.household_id) == household_id)
            .values(household_id=None).execution_options(synchronize_session=False))
    db.delete(household)
    db.flush()
    log.info("village %s: household %s removed (%s people)", village_id, household_id, people)
    return household.name, people


def place_person(db: Session, village_id: int, user_id: str, household_id: int | None) -> int:
    """Place a person (every member row of theirs in the village) in a household, or in none.
    How many member rows changed; 0 means they are not in the village."""
    if household_id is not None:
        get_household(db, village_id, household_id)
    groups = village_group_ids(db, village_id)
    result = db.exec(update(Member)
                     .where(col(Member.group_id).in_(groups), col(Member.user_id) == user_id)
                     .values(household_id=household_id)
                     .execution_options(synchronize_session=False))
    db.flush()
    return int(result.rowcount or 0)


def household_people(db: Session, village_id: int, household_id: int) -> list[Member]:
    """The people of a household, one member row each, by name."""
    groups = village_group_ids(db, village_id)
    people: dict[str, Member] = {}
    for member in db.exec(select(Member).where(col(Member.group_id).in_(groups),
                                               Member.household_id == household_id)
                          .order_by(col(Member.display_name), col(Member.id))):
        people.setdefault(member.user_id, member)
    return list(people.values())


def household_of(db: Session, group_id: int, user_id: str) -> Household | None:
    """The household the member `user_id` of the group is placed in, if any."""
    member = db.exec(select(Member).where(Member.group_id == group_id,
                                          Member.user_id == user_id)).first()
    if member is None or member.household_id is None:
        return None
    return db.get(Household, member.household_id)


def household_ranking(db: Session, village_id: int, start: datetime, end: datetime,
                      limit: int | None = None) -> list[HouseholdRank]:
    """The village's households by points earned in [start, end), most first; households with
    none rank too (with 0). Revoked awards do not count; shop spending does not lower a rank."""
    groups = village_group_ids(db, village_id)
    earned = dict(db.exec(
        select(PointsEntry.user_id, func.sum(PointsEntry.points))
        .where(col(PointsEntry.group_id).in_(groups), col(PointsEntry.revoked_at).is_(None),
               col(PointsEntry.created_at) >= start, col(PointsEntry.created_at) < end)
        .group_by(col(PointsEntry.user_id))).all())
    people = _people_per_household(db, village_id)
    totals = []
    for household in db.exec(select(Household).where(Household.village_id == village_id)):
        members = people.get(household.id or 0, set())
        totals.append((sum(int(earned.get(u) or 0) for u in members), household, len(members)))
    totals.sort(key=lambda t: (-t[0], t[1].name))
    ranking: list[HouseholdRank] = []
    for index, (points, household, size) in enumerate(totals):
        rank = ranking[-1].rank if ranking and ranking[-1].points == points else index + 1
        ranking.append(HouseholdRank(rank, household.id or 0, household.name, points, size))
    return ranking[:limit] if limit is not None else ranking


def check_household_rows(db: Session, village_id: int,
                         rows: Sequence[HouseholdRow]) -> list[str]:
    """Every problem of a household sheet, one line each naming its row; [] when it is good."""
    problems: list[str] = []
    placed: dict[str, tuple[int, str]] = {}  # user id -> (row, household name)

    def say(row: int, problem: str) -> None:
        problems.append(texts.SHEET_ROW_PROBLEM.format(row=row, problem=problem))

    if not rows:
        return [texts.SHEET_NO_ROWS]
    for row in rows:
        try:
            name = clean_household_name(row.name)
        except HouseholdError as exc:
            say(row.row, str(exc))
            continue
        if not row.people:
            say(row.row, texts.HOUSEHOLD_SHEET_NO_PEOPLE.format(name=name))
        for who in row.people:
            found = match_people(db, village_id, who)
            if not found:
                say(row.row, texts.SHEET_NO_SUCH_PERSON.format(who=who))
            elif len(found) > 1:
                say(row.row, texts.SHEET_PERSON_AMBIGUOUS.format(
                    who=who, numbers="、".join(m.user_id for m in found)))
            else:
                user_id = found[0].user_id
                earlier = placed.get(user_id)
                if earlier is not None and earlier[1] != name:
                    say(row.row, texts.HOUSEHOLD_SHEET_TWICE.format(
                        who=who, row=earlier[0], name=earlier[1]))
                placed.setdefault(user_id, (row.row, name))
    return problems


def import_households(db: Session, village_id: int,
                      rows: Sequence[HouseholdRow]) -> ImportResult:
    """Make the sheet's households and place its people, all of it or (ImportRefused) none."""
    problems = check_household_rows(db, village_id, rows)
    if problems:
        raise ImportRefused(problems)
    created, placed = 0, set()
    for row in rows:
        household = find_household(db, village_id, row.name)
        if household is None:
            household = add_household(db, village_id, row.name)
            created += 1
        for who in row.people:
            person = match_people(db, village_id, who)[0]
            place_person(db, village_id, person.user_id, household.id)
            placed.add(person.user_id)
    log.info("village %s: household sheet imported (%s new, %s placed)", village_id, created,
             len(placed))
    return ImportResult(created, len(placed))

