"""Rankings over a village's groups: by person and household, ties, deductions, revoked awards,
the posted list with its bottom names only when the village publishes them, and /积分's facts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from bot.core.db import session
from bot.core.models import Group
from bot.domain.notices import leaderboard_text
from bot.domain.rankings import (
    Period,
    Place,
    balance,
    household_ranking,
    my_points,
    person_ranking,
    recent_changes,
)
from tests.support.points import WANG, Seeded, give, local, seed_village

NOVEMBER, YEAR = Period(2026, 11), Period(2026)
NOVEMBER_FIRST, DECEMBER_FIRST = date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def village(engine: Engine) -> Seeded:
    return seed_village(engine)


def group(engine: Engine, group_id: int) -> Group:
    with session(engine) as db:
        found = db.get(Group, group_id)
        assert found is not None
        return found


def lines(places: list[Place]) -> list[tuple[int, str, int]]:
    return [(p.rank, p.name, p.points) for p in places]


def test_a_month_ranks_everyone_in_the_village_with_ties_deductions_and_no_revoked_award(
        engine: Engine, village: Seeded) -> None:
    with session(engine) as db:
        from_fengshu = person_ranking(db, group(engine, village.fengshu), NOVEMBER)
        from_lianhua = person_ranking(db, group(engine, village.lianhua), NOVEMBER)
    # 张大爷 and 李婶 tie at 11 and share first place, 张大爷 listed first: he got there first.
    # 王伯's 20 were taken back; 刘姐's deduction puts her below zero.
    assert lines(from_fengshu) == [(1, "张大爷", 11), (1, "李婶", 11), (3, "王伯", 5),
                                   (4, "赵叔", 2), (5, "刘姐", -7)]
    assert from_lianhua == from_fengshu  # one village, one list, whichever group asks


def test_the_year_adds_up_the_months_and_a_group_outside_the_village_stands_alone(
        engine: Engine, village: Seeded) -> None:
    with session(engine) as db:
        year = person_ranking(db, group(engine, village.fengshu), YEAR)
        elsewhere = person_ranking(db, group(engine, village.elsewhere), YEAR)
        october = person_ranking(db, group(engine, village.fengshu), Period(2026, 10))
    assert lines(year)[:2] == [(1, "张大爷", 61), (2, "李婶", 11)]
    assert lines(elsewhere) == [(1, "张大爷", 100)]
    assert lines(october) == [(1, "张大爷", 50)]


def test_households_sum_their_members_and_one_without_points_is_ranked_last(
        engine: Engine, village: Seeded) -> None:
    with session(engine) as db:
        households = household_ranking(db, group(engine, village.lianhua), NOVEMBER)
        none = household_ranking(db, group(engine, village.elsewhere), NOVEMBER)
    assert lines(households) == [(1, "李家", 13), (2, "张家", 11), (3, "王家", 5),
                                 (4, "陈家", 0)]
    assert none == []


def test_the_posted_list_shows_bottom_names_only_when_the_village_publishes_them(
        engine: Engine, village: Seeded) -> None:
    with session(engine) as db:
        fengshu = group(engine, village.fengshu)
        plain = leaderboard_text(db, fengshu, NOVEMBER_FIRST, size=2)
        with_bottom = leaderboard_text(db, fengshu, NOVEMBER_FIRST, size=2, last=2)
        everyone = leaderboard_text(db, fengshu, NOVEMBER_FIRST, size=10)
    assert plain.splitlines() == [
        "【11月积分榜】谢谢大家这个月的参与！", "1. 张大爷  11 分", "1. 李婶  11 分",
        "户前 2 名：", "1. 李家  13 分", "2. 张家  11 分",
        "听完微党课回一句“已听”、提建议、建议被采纳，都能加分。"]
    # Below zero is no place of honour: named only among the last, where a village lists them.
    assert "赵叔  2 分" in everyone and "刘姐" not in everyone
    assert with_bottom.splitlines()[6:-1] == [
        "个人后 2 名：", "4. 赵叔  2 分", "5. 刘姐  -7 分",
        "户后 2 名：", "3. 王家  5 分", "4. 陈家  0 分"]


def test_the_december_post_carries_the_years_list_too(engine: Engine, village: Seeded
                                                      ) -> None:
    give(engine, village.lianhua, WANG, 1, local(12, 3), reason="listen", by=None)
    with session(engine) as db:
        text = leaderboard_text(db, group(engine, village.fengshu), DECEMBER_FIRST, size=3)
    month, year = text.split("\n\n")
    # Households without points this month are no top three: only 王家 is named.
    assert month.splitlines() == ["【12月积分榜】谢谢大家这个月的参与！", "1. 王伯  1 分",
                                  "户前 1 名：", "1. 王家  1 分"]
    assert year.splitlines()[:4] == ["【2026年全年积分榜】一年辛苦了，谢谢大家！",
                                     "1. 张大爷  61 分", "2. 李婶  11 分", "3. 王伯  6 分"]


def test_balance_is_what_was_earned_less_what_was_spent_and_changes_skip_revoked_ones(
        engine: Engine, village: Seeded) -> None:
    with session(engine) as db:
        fengshu, lianhua = group(engine, village.fengshu), group(engine, village.lianhua)
        assert balance(db, fengshu, "u-zhang") == 61 - 8
        assert balance(db, lianhua, "u-wang") == 5
        changes = recent_changes(db, lianhua, "u-wang")
        mine = my_points(db, fengshu, "u-li", local(11, 30))
    assert [(c.what, c.points, c.when.day) for c in changes] == [("帮五保户挑水", 5, 8)]
    assert mine.balance == 11 and mine.rank is not None and mine.rank.rank == 1
    assert mine.people == 5
    assert mine.household is not None and (mine.household.name, mine.household.rank) == (
        "李家", 1)
    assert mine.households == 4
    assert [(c.what, c.points) for c in mine.changes] == [("听微党课", 1), ("改厕", 10)]
