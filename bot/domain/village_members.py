"""The people of a village (a set of groups): its groups, and a member found by name or number.

A person in two of the village's groups has two member rows with one user id; they are one
person for points and households.
"""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from bot.core.models import Group, Member


class ImportRefused(ValueError):
    """A sheet refused whole: one Chinese line per problem, each naming its row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def village_group_ids(db: Session, village_id: int) -> list[int]:
    """The ids of the village's groups."""
    return [gid for gid in db.exec(select(Group.id).where(Group.village_id == village_id))
            if gid is not None]


def village_people(db: Session, village_id: int) -> list[Member]:
    """One member row per person of the village, by name (their first group's row)."""
    rows = db.exec(select(Member).join(Group, col(Group.id) == Member.group_id)
                   .where(Group.village_id == village_id)
                   .order_by(col(Member.display_name), col(Member.id)))
    people: dict[str, Member] = {}
    for member in rows:
        people.setdefault(member.user_id, member)
    return list(people.values())


def match_people(db: Session, village_id: int, text: str) -> list[Member]:
    """The village's people whose user id or display name is `text`: one row per person."""
    text = " ".join(text.split())
    if not text:
        return []
    rows = list(db.exec(select(Member).join(Group, col(Group.id) == Member.group_id)
                        .where(Group.village_id == village_id,
                               or_(Member.user_id == text, Member.display_name == text))
                        .order_by(col(Member.id))))
    # A member number is exact; only when none matches is the name taken.
    chosen = [m for m in rows if m.user_id == text] or rows
    found: dict[str, Member] = {}
    for member in chosen:
        found.setdefault(member.user_id, member)
    return list(found.values())


def group_of_village(db: Session, village_id: int) -> Group | None:
    """The village's first group, whose time zone its days are counted in."""
    return db.exec(select(Group).where(Group.village_id == village_id)
                   .order_by(col(Group.id))).first()
