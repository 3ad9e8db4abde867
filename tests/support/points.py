"""Builders for points tests: a village of groups, households, items, entries and redemptions,
written straight into the tables as the awarding, households and shop pages would."""

from __future__ import annotations

from dataclasses import dataclass
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
from tests.support.builders import add_group, add_member

ZHANG, LI, WANG = ("u-zhang", "张大爷"), ("u-li", "李婶"), ("u-wang", "王伯")
LIU, ZHAO = ("u-liu", "刘姐"), ("u-zhao", "赵叔")


@dataclass(frozen=True)
class Seeded:
    """The seeded village's ids: its two groups, a group of another village, the village."""

    fengshu: int
    lianhua: int
    elsewhere: int
    village: int


def seed_village(engine: Engine) -> Seeded:
    """枫树村: two groups; a November with a tie, a revoked award, a deduction, an October."""
    fengshu = add_group(engine, "枫树屋场", chat_id="fengshu").id or 0
    lianhua = add_group(engine, "莲花屋场", chat_id="lianhua").id or 0
    elsewhere = add_group(engine, "隔壁村", chat_id="gebi").id or 0
    for who in (ZHANG, LI, ZHAO):
        add_member(engine, fengshu, *who)
    for who in (WANG, LIU):
        add_member(engine, lianhua, *who)
    add_member(engine, elsewhere, *ZHANG)
    village = make_village(engine, "枫树村", [fengshu, lianhua])
    add_household(engine, village, "张家", ["u-zhang"])
    add_household(engine, village, "李家", ["u-li", "u-zhao"])
    add_household(engine, village, "王家", ["u-wang"])
    add_household(engine, village, "陈家", [])
    toilet = add_item(engine, village, "改厕", 10)
    rules = add_item(engine, village, "红十条", -10)
    give(engine, fengshu, ZHANG, 50, local(10, 20), item_id=toilet)  # October
    give(engine, fengshu, ZHANG, 1, local(11, 2), reason="listen", by=None)
    give(engine, fengshu, ZHANG, 10, local(11, 5), item_id=toilet)
    give(engine, fengshu, LI, 10, local(11, 3), item_id=toilet)
    give(engine, fengshu, LI, 1, local(11, 9), reason="listen", by=None)
    give(engine, lianhua, WANG, 20, local(11, 4), item_id=toilet, revoked="记错人了")
    give(engine, lianhua, WANG, 5, local(11, 8), note="帮五保户挑水")
    give(engine, lianhua, LIU, 3, local(11, 2), reason="suggest", by=None)
    give(engine, lianhua, LIU, -10, local(11, 10), item_id=rules, note="乱倒垃圾")
    give(engine, fengshu, ZHAO, 2, local(11, 11), reason="suggest", by=None)
    give(engine, elsewhere, ZHANG, 100, local(11, 12))  # another village's points
    redeem(engine, village, fengshu, ZHANG, "洗衣粉", 8, local(11, 20))
    return Seeded(fengshu, lianhua, elsewhere, village)


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
