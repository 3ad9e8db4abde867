"""Builders for points tests: a village of groups, households, items, entries and redemptions,
written straight into the tables as the awarding, households and shop pages would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.db import session
from bot.core.models import (
    Group,
    Household,
    Member,
    PointsEntry,
    PointsItem,
    Redemption,
    ShopGood,
    Village,
)


def make_village(engine: Engine, name: str, group_ids: list[int]) -> int:
    """A village made of these groups; returns its id."""
    with session(engine) as db:
        village = Village(name=name)
        db.add(village)
        db.flush()
        for group_id in group_ids:
            group = db.get(Group, group_id)
            assert group is not None
            group.village_id = village.id
            db.add(group)
        assert village.id is not None
        return village.id


def add_household(engine: Engine, village_id: int, name: str, members: list[str]) -> int:
    """A household of the village with these members (user ids) placed in it."""
    with session(engine) as db:
        household = Household(village_id=village_id, name=name)
        db.add(household)
        db.flush()
        for member in db.exec(select(Member).where(col(Member.user_id).in_(members))):
            member.household_id = household.id
            db.add(member)
        assert household.id is not None
        return household.id


def add_item(engine: Engine, village_id: int, name: str, points: int) -> int:
    """An item of the village's points list."""
    with session(engine) as db:
        item = PointsItem(village_id=village_id, name=name, points=points)
        db.add(item)
        db.flush()
        assert item.id is not None
        return item.id


def give(engine: Engine, group_id: int, user: tuple[str, str], points: int, at: datetime, *,
         item_id: int | None = None, reason: str = "item", note: str = "",
         by: str | None = "王书记", revoked: str | None = None) -> None:
    """One entry as awarded (and, with `revoked`, taken back a day later for that reason)."""
    with session(engine) as db:
        db.add(PointsEntry(
            group_id=group_id, user_id=user[0], user_name=user[1], reason=reason,
            ref=f"{user[0]}-{at.isoformat()}-{points}", points=points, created_at=at,
            item_id=item_id, note=note, by_name=by,
            revoked_at=at + timedelta(days=1) if revoked else None,
            revoked_by_name="王书记" if revoked else None, revoke_reason=revoked))


def redeem(engine: Engine, village_id: int, group_id: int, user: tuple[str, str], good: str,
           points: int, at: datetime) -> None:
    """A redemption in the shop, as the secretary records it."""
    with session(engine) as db:
        row = ShopGood(village_id=village_id, name=good, price=points, stock=5)
        db.add(row)
        db.flush()
        assert row.id is not None
        db.add(Redemption(village_id=village_id, good_id=row.id, group_id=group_id,
                          user_id=user[0], user_name=user[1], points=points, by_name="王书记",
                          created_at=at))


def local(month: int, day: int, hour: int = 20, year: int = 2026) -> datetime:
    """An evening in the village (UTC+8), as the aware UTC instant it is stored as."""
    return datetime(year, month, day, hour, tzinfo=UTC) - timedelta(hours=8)
