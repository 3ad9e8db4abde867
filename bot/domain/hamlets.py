"""屋场 (hamlets) a group covers: listed, renamed, removed; members placed in one; a suggestion's
hamlet corrected.

A suggestion keeps its hamlet as a name, so renaming or removing a hamlet leaves what was
recorded before as it was; only a correction changes it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from bot import texts
from bot.core.models import Group, Hamlet, Member, Suggestion, SuggestionChange
from bot.domain.suggestions import SuggestionError, get_suggestion
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

HAMLET_NAME_MAX = 40


class HamletError(ValueError):
    """A refused hamlet change; the message is Chinese and shown as is."""


def list_hamlets(db: Session, group_id: int) -> list[Hamlet]:
    """The group's hamlets by name."""
    return list(db.exec(select(Hamlet).where(Hamlet.group_id == group_id)
                        .order_by(col(Hamlet.name))))


def hamlet_names(db: Session, group_id: int) -> list[str]:
    """The names of the group's hamlets, by name."""
    return [hamlet.name for hamlet in list_hamlets(db, group_id)]


def hamlet_sizes(db: Session, group_id: int) -> list[tuple[Hamlet, int]]:
    """The group's hamlets by name, each with how many members were placed in it."""
    counts = dict(db.exec(select(Member.hamlet_id, func.count(col(Member.id)))
                          .where(Member.group_id == group_id)
                          .group_by(col(Member.hamlet_id))).all())
    return [(hamlet, int(counts.get(hamlet.id, 0))) for hamlet in list_hamlets(db, group_id)]


def clean_hamlet_name(name: str) -> str:
    """A hamlet name trimmed, or HamletError if it is empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise HamletError(texts.HAMLET_EMPTY)
    if len(name) > HAMLET_NAME_MAX:
        raise HamletError(texts.HAMLET_TOO_LONG.format(n=HAMLET_NAME_MAX))
    return name


def find_hamlet(db: Session, group_id: int, name: str) -> Hamlet | None:
    """The group's hamlet called `name`, if any."""
    return db.exec(select(Hamlet).where(Hamlet.group_id == group_id,
                                        Hamlet.name == " ".join(name.split()))).first()


def get_hamlet(db: Session, group_id: int, name: str) -> Hamlet:
    """The group's hamlet called `name`, or HamletError listing the ones it has."""
    hamlet = find_hamlet(db, group_id, name)
    if hamlet is None:
        have = "、".join(hamlet_names(db, group_id)) or texts.HAMLET_NONE_YET
        raise HamletError(texts.HAMLET_NOT_FOUND.format(name=name.strip(), have=have))
    return hamlet


def add_hamlet(db: Session, group: Group, name: str) -> Hamlet:
    """Add a hamlet to the group; HamletError if it has one by that name already."""
    assert group.id is not None, "a stored group has an id"
    name = clean_hamlet_name(name)
    if find_hamlet(db, group.id, name) is not None:
        raise HamletError(texts.HAMLET_EXISTS.format(name=name))
    hamlet = Hamlet(group_id=group.id, name=name)
    db.add(hamlet)
    db.flush()
    log.info("group %s: hamlet %s added", group.id, name)
    return hamlet


def rename_hamlet(db: Session, group_id: int, name: str, new_name: str) -> Hamlet:
    """Rename a hamlet: its members go with it; suggestions keep the name they were given."""
    hamlet = get_hamlet(db, group_id, name)
    new_name = clean_hamlet_name(new_name)
    if new_name != hamlet.name and find_hamlet(db, group_id, new_name) is not None:
        raise HamletError(texts.HAMLET_EXISTS.format(name=new_name))
    hamlet.name = new_name
    db.add(hamlet)
    db.flush()
    return hamlet


def remove_hamlet(db: Session, group_id: int, name: str) -> int:
    """Remove a hamlet; its members belong to none afterwards. How many members it had."""
    hamlet = get_hamlet(db, group_id, name)
    moved = db.exec(update(Member).where(col(Member.hamlet_id) == hamlet.id)
                    .values(hamlet_id=None).execution_options(synchronize_session=False))
    db.delete(hamlet)
    db.flush()
    log.info("group %s: hamlet %s removed (%s members)", group_id, hamlet.name, moved.rowcount)
    return int(moved.rowcount or 0)


def assign_member(db: Session, group_id: int, member: Member, name: str) -> Hamlet | None:
    """Place a member in the group's hamlet `name`; an empty name takes them out of any."""
    hamlet = get_hamlet(db, group_id, name) if name.strip() else None
    member.hamlet_id = hamlet.id if hamlet is not None else None
    db.add(member)
    db.flush()
    return hamlet


def set_suggestion_hamlet(db: Session, number: int, name: str, *, actor_id: str,
                          actor_name: str, now: datetime | None = None) -> Suggestion:
    """Correct a suggestion's hamlet to one of its group's (or the group's own default),
    the change kept in its history."""
    row = get_suggestion(db, number)
    name = " ".join(name.split())
    group = db.get(Group, row.group_id)
    allowed = set(hamlet_names(db, row.group_id)) | ({group.hamlet} if group else set())
    if not name:
        raise SuggestionError(texts.HAMLET_PICK)
    if name not in allowed:
        raise SuggestionError(texts.HAMLET_NOT_OF_GROUP.format(name=name))
    if name == row.hamlet:
        return row
    now = now or utcnow()
    note = texts.HAMLET_CORRECTED_NOTE.format(old=row.hamlet or texts.HAMLET_BLANK, new=name)
    row.hamlet, row.updated_at = name, now
    db.add(row)
    # Same status before and after: the history shows the correction without a status step.
    db.add(SuggestionChange(suggestion_id=number, from_status=row.status, to_status=row.status,
                            actor_id=actor_id, actor_name=actor_name, reply=note,
                            created_at=now))
    db.flush()
    log.info("suggestion %s: hamlet corrected to %s by %s", number, name, actor_id)
    return row
