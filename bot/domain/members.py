"""Members of a group: created on first sight, names kept current, roles granted.

Shared by the chat, the CLI and the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from bot.core.models import Group, Member, Role
from scheduler.dbtypes import insert_rows, utcnow

MEMBERS: Table = Member.__table__  # type: ignore[attr-defined]


def find_member(db: Session, group: Group, user_id: str) -> Member | None:
    """The member row of `user_id` in the group, if they have one."""
    return db.exec(select(Member).where(Member.group_id == group.id,
                                        Member.user_id == user_id)).first()


def grant_role(db: Session, group: Group, user_id: str, role: Role,
               name: str | None = None) -> Member:
    """Give `user_id` a role in the group, adding them as a member if they never spoke."""
    assert group.id is not None, "a stored group has an id"
    member = find_member(db, group, user_id) or Member(group_id=group.id, user_id=user_id,
                                                       display_name=name or user_id)
    member.role = role
    if name:
        member.display_name = name
    db.add(member)
    db.flush()
    return member


@dataclass(frozen=True)
class Seen:
    """A sender to remember: created on first sight, the display name kept current."""

    group_id: int
    user_id: str
    name: str


def remember_members(connection: Connection, seen: Sequence[Seen]) -> list[None]:
    """Create or rename the members in `seen` (one statement)."""
    now = utcnow()
    latest = {(s.group_id, s.user_id): s.name for s in seen}  # the last name given wins
    rows = [{"group_id": group_id, "user_id": user_id, "display_name": name,
             "role": Role.MEMBER, "joined_at": now}
            for (group_id, user_id), name in latest.items()]
    insert_rows(connection, MEMBERS, ("group_id", "user_id"), rows, update=("display_name",))
    return [None] * len(seen)
