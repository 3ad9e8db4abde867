"""Households of a village: ranked by points earned, found for a member, and made from a
sheet all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.db import session
from bot.core.models import Household, Member, PointsEntry, Redemption, ShopGood
from bot.domain.households import (
    HouseholdError,
    HouseholdRow,
    add_household,
    household_of,
    household_ranking,
    import_households,
    list_households,
    place_person,
    remove_household,
    rename_household,
)
from bot.domain.village_members import ImportRefused
from tests.support.points_sheets import PointsVillage, seed_village

MARCH = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def award(db: Session, village: PointsVillage, group: int, user_id: str, points: int,
          day: int = 10, *, revoked: bool = False, month: int = 3) -> None:
    db.add(PointsEntry(group_id=village.groups[group], user_id=user_id, user_name=user_id,
                       reason="item", ref=f"{user_id}-{points}-{day}", points=points,
                       created_at=datetime(2026, month, day, 4, tzinfo=UTC),
                       revoked_at=datetime(2026, month, day, 5, tzinfo=UTC) if revoked else None))


def test_households_rank_by_points_earned_in_the_period(engine: Engine) -> None:
    village = seed_village(engine)
    with session(engine) as db:
        homes = {name: add_household(db, village.id, name).id
                 for name in ("张家", "李家", "刘家", "新搬来的一户")}
        for user_id, home in (("u-zhang", "张家"), ("u-li", "李家"), ("u-zhao", "李家"),
                              ("u-liu1", "刘家")):
            assert place_person(db, village.id, user_id, homes[home])
        award(db, village, 0, "u-zhang", 10)
        award(db, village, 1, "u-zhang", 5)  # his other group counts for the same household
        award(db, village, 0, "u-li", 10)
        award(db, village, 1, "u-zhao", -10)  # a deduction lowers the household
        award(db, village, 1, "u-zhao", 50, revoked=True)  # taken back: does not count
        award(db, village, 0, "u-liu1", 5)
        award(db, village, 0, "u-liu1", 100, month=2)  # before the period
        award(db, village, 1, "u-wang", 30)  # in no household
        good = ShopGood(village_id=village.id, name="洗衣粉", price=15, stock=3)
        db.add(good)
        db.flush()
        db.add(Redemption(village_id=village.id, good_id=good.id or 0,
                          group_id=village.groups[0], user_id="u-zhang", user_name="张大爷",
                          points=15, created_at=datetime(2026, 3, 20, tzinfo=UTC)))
    with session(engine) as db:
        ranking = household_ranking(db, village.id, *MARCH)
        top = household_ranking(db, village.id, *MARCH, limit=2)
    # Spending in the shop does not lower 张家: rankings are by points earned.
    assert [(r.rank, r.name, r.points, r.people) for r in ranking] == [
        (1, "张家", 15, 1), (2, "刘家", 5, 1), (3, "新搬来的一户", 0, 0), (3, "李家", 0, 2)]
    assert [r.name for r in top] == ["张家", "刘家"]


def test_a_member_is_found_in_their_household_from_either_group(engine: Engine) -> None:
    village = seed_village(engine)
    with session(engine) as db:
        home = add_household(db, village.id, "张家")
        place_person(db, village.id, "u-zhang", home.id)
    with session(engine) as db:
        for group_id in village.groups:
            found = household_of(db, group_id, "u-zhang")
            assert found is not None and found.name == "张家"
        assert household_of(db, village.groups[0], "u-li") is None


def test_households_are_renamed_and_removed_and_names_stay_unique(engine: Engine) -> None:
    village = seed_village(engine)
    with session(engine) as db:
        home = add_household(db, village.id, "张家")
        add_household(db, village.id, "李家")
        place_person(db, village.id, "u-zhang", home.id)
        with pytest.raises(HouseholdError, match="已经有「李家」"):
            rename_household(db, village.id, home.id or 0, "李家")
        with pytest.raises(HouseholdError, match="已经有「李家」"):
            add_household(db, village.id, " 李家 ")
        rename_household(db, village.id, home.id or 0, "张大爷家")
        assert [(h.name, h.people) for h in list_households(db, village.id)] == [
            ("张大爷家", 1), ("李家", 0)]
        assert remove_household(db, village.id, home.id or 0) == ("张大爷家", 1)
    with session(engine) as db:
        assert all(m.household_id is None for m in db.exec(select(Member)))


def test_a_household_sheet_with_one_wrong_row_changes_nothing(engine: Engine) -> None:
    village = seed_village(engine)
    rows = [HouseholdRow(2, "张家", ("张大爷",)),
            HouseholdRow(3, "李家", ("李奶奶", "赵婶", "张大爷")),
            HouseholdRow(4, "刘家", ("刘芳",)),
            HouseholdRow(5, "王家", ("王晓明",))]
    with session(engine) as db, pytest.raises(ImportRefused) as refused:
        import_households(db, village.id, rows)
    assert refused.value.problems == [
        "第3行：张大爷 在第2行已经放进「张家」了，一个人只能属于一户",
        "第4行：村里有几位叫「刘芳」的（编号 u-liu1、u-liu2），请填成员编号",
        "第5行：村里找不到「王晓明」，请核对名字，或者填成员编号"]
    with session(engine) as db:
        assert list(db.exec(select(Household))) == []
    fixed = [HouseholdRow(2, "张家", ("张大爷",)), HouseholdRow(3, "李家", ("李奶奶", "赵婶")),
             HouseholdRow(4, "刘家", ("u-liu2",))]
    with session(engine) as db:
        result = import_households(db, village.id, fixed)
    assert (result.created, result.placed) == (3, 4)
    with session(engine) as db:
        assert [(h.name, h.people) for h in list_households(db, village.id)] == [
            ("刘家", 1), ("张家", 1), ("李家", 2)]
        liu = household_of(db, village.groups[1], "u-liu2")
        assert liu is not None and liu.name == "刘家"
