"""Villages: the set of groups that share a points list, households and a shop."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.models import Group, Village

log = logging.getLogger(__name__)


def village_of(db: Session, group: Group) -> Village:
    """The group's village; a group without one gets a village of its own, named after it."""
    # Read afresh: the chat's copy of the group may predate its joining another village.
    stored = db.get(Group, group.id, populate_existing=True)
    assert stored is not None, "a stored group"
    if stored.village_id is None:
        village = Village(name=group.name)
        db.add(village)
        db.flush()
        # Two messages of a new group may both get here: one village becomes the group's.
        taken = db.exec(update(Group).where(col(Group.id) == group.id,
                                            col(Group.village_id).is_(None))
                        .values(village_id=village.id)
                        .execution_options(synchronize_session=False))
        if taken.rowcount:
            log.info("group %s now has village %s of its own", group.id, village.id)
        else:
            db.delete(village)
        db.flush()
        db.refresh(stored)
    found = db.get(Village, stored.village_id)
    assert found is not None, "a group's village is never deleted"
    group.village_id = found.id
    return found


def village_id_of(db: Session, group: Group) -> int:
    """The id of the group's village (made on first need, as `village_of` does)."""
    village = village_of(db, group)
    assert village.id is not None, "a stored village has an id"
    return village.id


def village_groups(db: Session, village_id: int) -> list[Group]:
    """The groups of a village, by name."""
    return list(db.exec(select(Group).where(Group.village_id == village_id)
                        .order_by(col(Group.name), col(Group.id))))


def join_village(db: Session, group: Group, other: Group) -> Village:
    """Put `group` into the village `other` belongs to: from now on it uses that village's
    points list. Points already given stay as they were."""
    target = village_of(db, other)
    if group.village_id == target.id:
        return target
    group.village_id = target.id
    db.add(group)
    db.flush()
    log.info("group %s joined village %s", group.id, target.id)
    return target

