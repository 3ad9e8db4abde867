"""Villages: the set of groups that share a points list, households and a shop."""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from bot.core.models import Group, Village

log = logging.getLogger(__name__)


def village_of(db: Session, group: Group) -> Village:
    """The group's village; a group without one gets a village of its own, named after it."""
    if group.village_id is not None:
        village = db.get(Village, group.village_id)
        if village is not None:
            return village
    village = Village(name=group.name)
    db.add(village)
    db.flush()
    group.village_id = village.id
    db.add(group)
    db.flush()
    log.info("group %s now has village %s of its own", group.id, village.id)
    return village


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

