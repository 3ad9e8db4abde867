"""Points: earned once per thing, ranked with shared places, counted by the village's month."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot.core.db import session
from bot.core.models import Group, Member, PointsEntry, SuggestionStatus
from bot.domain.points import (
    ADOPTED,
    LISTEN,
    SUGGEST,
    PointsRules,
    award,
    leaderboard,
    local_month,
    standing,
)
from bot.domain.suggestions import add_suggestion, change_status
from tests.support.builders import add_group, add_member

RULES = PointsRules()
NOVEMBER, DECEMBER, OCTOBER = date(2026, 11, 1), date(2026, 12, 1), date(2026, 10, 1)
PEOPLE = {"u-zhang": "张大爷", "u-li": "李婶", "u-wang": "王伯", "u-liu": "刘姐", "u-zhao": "赵叔"}


def make_group(engine: Engine, timezone: str = "Asia/Shanghai", chat_id: str = "fengshu"
               ) -> int:
    group = add_group(engine, "枫树屋场", chat_id=chat_id, hamlet="枫树屋场", timezone=timezone)
    assert group.id is not None
    for user_id, name in PEOPLE.items():
        add_member(engine, group.id, user_id, name)
    return group.id


@pytest.fixture
def group_id(engine: Engine) -> int:
    return make_group(engine)


def give(engine: Engine, group_id: int, user_id: str, reason: str, ref: str, points: int,
         at: datetime) -> bool:
    with session(engine) as db:
        name = PEOPLE.get(user_id, "陈奶奶")
        return award(db, group_id=group_id, user_id=user_id, user_name=name, reason=reason,
                     ref=ref, points=points, now=at)


def local(day: int, hour: int = 20, month: int = 11) -> datetime:
    """A November evening in the village (UTC+8), as the aware UTC instant it is stored as."""
    return datetime(2026, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


def test_listening_twice_to_the_same_lesson_earns_points_once(
    engine: Engine, group_id: int
) -> None:
    assert give(engine, group_id, "u-zhang", LISTEN, "101", RULES.listen, local(3))
    assert not give(engine, group_id, "u-zhang", LISTEN, "101", RULES.listen, local(3, 21))
    assert give(engine, group_id, "u-zhang", LISTEN, "102", RULES.listen, local(10))
    with session(engine) as db:
        assert standing(db, group_id, "u-zhang") == (2, 1, 1)


def test_racing_awards_for_one_thing_store_one_entry(engine: Engine, group_id: int) -> None:
    start = threading.Barrier(3)

    def tap(_worker: int) -> list[bool]:
        start.wait()
        return [give(engine, group_id, "u-li", LISTEN, str(ref), 1, local(5))
                for ref in range(30)]

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(tap, range(3)))
    assert [sum(column) for column in zip(*results, strict=True)] == [1] * 30
    with session(engine) as db:
        assert db.exec(select(func.count()).select_from(PointsEntry)).one() == 30
        assert standing(db, group_id, "u-li") == (30, 1, 1)


def raise_and_score(engine: Engine, group_id: int, user_id: str, text: str, day: int,
                    adopt_day: int | None = None) -> None:
    """What the chat does: points for raising, and for the author when it is adopted."""
    with session(engine) as db:
        group = db.get(Group, group_id)
        assert group is not None
        row, _ = add_suggestion(db, group=group, platform="web", chat_id="fengshu",
                                message_id=f"m-{user_id}-{text}", author_id=user_id,
                                author_name=PEOPLE.get(user_id, "陈奶奶"), text=text,
                                now=local(day))
        award(db, group_id=group_id, user_id=user_id, user_name=row.author_name,
              reason=SUGGEST, ref=str(row.id), points=RULES.suggest, now=local(day))
    if adopt_day is None:
        return
    with session(engine) as db:
        row = change_status(db, row.id or 0, SuggestionStatus.ADOPTED, actor_id="u-sec",
                            actor_name="李书记", reply="同意", now=local(adopt_day))
        award(db, group_id=group_id, user_id=row.author_id, user_name=row.author_name,
              reason=ADOPTED, ref=str(row.id), points=RULES.adopted, now=local(adopt_day))


def script_november(engine: Engine, group_id: int) -> None:
    """Four lessons, a night talk's suggestions and two adoptions in one village's November."""
    give(engine, group_id, "u-zhang", LISTEN, "90", RULES.listen, local(28, month=10))  # October
    lessons = {"101": 2, "102": 9, "103": 16, "104": 23}
    listeners = {"u-zhang": ["101", "102", "103", "104"], "u-li": ["101", "103", "104"],
                 "u-wang": ["101", "102", "103", "104"], "u-liu": ["101", "102", "103", "104"]}
    for user_id, heard in listeners.items():
        for ref in heard:
            give(engine, group_id, user_id, LISTEN, ref, RULES.listen, local(lessons[ref], 21))
            give(engine, group_id, user_id, LISTEN, ref, RULES.listen, local(lessons[ref], 22))
    raise_and_score(engine, group_id, "u-zhang", "村口路灯坏了", 12, adopt_day=14)
    raise_and_score(engine, group_id, "u-zhang", "桥上装护栏", 12)
    raise_and_score(engine, group_id, "u-li", "垃圾池要加盖", 12, adopt_day=26)
    raise_and_score(engine, group_id, "u-wang", "水渠要清淤", 12)
    raise_and_score(engine, group_id, "u-wang", "后山路要硬化", 13)
    raise_and_score(engine, group_id, "u-wang", "学校门口装减速带", 20)
    raise_and_score(engine, group_id, "proxy:陈奶奶", "老人体检能不能到村里来", 12)


def test_points_and_ranks_add_up_after_a_scripted_month(engine: Engine, group_id: int) -> None:
    script_november(engine, group_id)
    with session(engine) as db:
        month = {u: standing(db, group_id, u, month=NOVEMBER) for u in [*PEOPLE, "proxy:陈奶奶"]}
        ever = standing(db, group_id, "u-zhang")
    # 张大爷: 4 listens + 2 raised + 1 adopted = 4 + 4 + 5; 李婶: 3 + 2 + 5; 王伯: 4 + 6
    assert month == {
        "u-zhang": (13, 1, 5),
        "u-wang": (10, 2, 5),
        "u-li": (10, 2, 5),  # a tie shares second place …
        "u-liu": (4, 4, 5),  # … and the next person is fourth
        "proxy:陈奶奶": (2, 5, 5),
        "u-zhao": (0, 6, 5),  # never took part: behind everyone with points
    }
    assert ever == (14, 1, 5)  # October's listen counts for all time only


def test_monthly_leaderboard_orders_by_points_then_who_got_there_first(
    engine: Engine, group_id: int
) -> None:
    script_november(engine, group_id)
    with session(engine) as db:
        board = leaderboard(db, group_id, NOVEMBER)
        top_three = leaderboard(db, group_id, date(2026, 11, 17), limit=3)
        october = leaderboard(db, group_id, OCTOBER)
        december = leaderboard(db, group_id, DECEMBER)
    # 王伯 reached 10 with his last listen on the 23rd; 李婶 only when hers was adopted, the 26th.
    assert board == [("张大爷", 13), ("王伯", 10), ("李婶", 10), ("刘姐", 4), ("陈奶奶", 2)]
    assert top_three == board[:3]
    assert october == [("张大爷", 1)]
    assert december == []


def test_leaderboard_shows_the_name_people_use_now(engine: Engine, group_id: int) -> None:
    give(engine, group_id, "u-wang", LISTEN, "101", 1, local(2))
    with session(engine) as db:
        member = db.exec(select(Member).where(Member.user_id == "u-wang")).one()
        member.display_name = "王伯伯"
        db.add(member)
    with session(engine) as db:
        assert leaderboard(db, group_id, NOVEMBER) == [("王伯伯", 1)]


def test_a_late_evening_in_utc_already_counts_for_the_next_village_month(
    engine: Engine, group_id: int
) -> None:
    last_minute = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 on 30 November, local
    next_morning = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 December, local
    give(engine, group_id, "u-liu", LISTEN, "104", 1, last_minute)
    give(engine, group_id, "u-liu", LISTEN, "105", 1, next_morning)
    with session(engine) as db:
        assert standing(db, group_id, "u-liu", month=NOVEMBER) == (1, 1, 1)
        assert standing(db, group_id, "u-liu", month=DECEMBER) == (1, 1, 1)
        assert local_month(db, group_id, next_morning) == DECEMBER
        assert local_month(db, group_id, last_minute) == NOVEMBER


def test_the_month_follows_each_groups_own_time_zone(engine: Engine) -> None:
    urumqi = make_group(engine, timezone="Asia/Urumqi", chat_id="tianshan")  # UTC+6
    give(engine, urumqi, "u-zhao", LISTEN, "105", 1, datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    with session(engine) as db:
        assert standing(db, urumqi, "u-zhao", month=NOVEMBER) == (1, 1, 1)  # 23:00 there
        assert standing(db, urumqi, "u-zhao", month=DECEMBER) == (0, 1, 0)
        assert leaderboard(db, urumqi, NOVEMBER) == [("赵叔", 1)]


def test_points_stay_in_their_own_group(engine: Engine, group_id: int) -> None:
    other = make_group(engine, chat_id="lianhua")
    give(engine, group_id, "u-zhang", LISTEN, "101", 1, local(2))
    give(engine, other, "u-zhang", LISTEN, "101", 1, local(2))
    give(engine, other, "u-li", LISTEN, "101", 1, local(2))
    give(engine, other, "u-li", LISTEN, "102", 1, local(9))
    with session(engine) as db:
        assert standing(db, group_id, "u-zhang", month=NOVEMBER) == (1, 1, 1)
        assert standing(db, other, "u-zhang", month=NOVEMBER) == (1, 2, 2)


def test_leaderboard_shows_ten_by_default(engine: Engine, group_id: int) -> None:
    for n in range(12):
        for ref in range(n + 1):
            give(engine, group_id, f"u-{n}", LISTEN, str(ref), 1, local(2))
    with session(engine) as db:
        board = leaderboard(db, group_id, NOVEMBER)
    assert [points for _name, points in board] == list(range(12, 2, -1))
