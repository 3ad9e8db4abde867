"""Roles in a group: the bot's own table, shared by the chat, the CLI and the console."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.models import Group, Member, Role


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
