"""A cap holds when two people give the same award at the same moment: the village's 改厕 is
worth points once a year, however quickly two facilitators tap."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.db import open_database, session
from bot.core.models import Group, Member, PointsEntry, Role
from bot.domain.points import PointsRules
from bot.domain.points_items import Giver, ItemFields, PointsError, add_item, find_item, give
from tests.support.builders import add_group, add_member
from tests.support.polling import eventually

LIBO = Giver("u-libo", "李伯", Role.FACILITATOR)
WANG = Giver("u-wang", "王书记", Role.SECRETARY)


def a_village_with_a_yearly_item(engine: Engine) -> int:
    group_id = add_group(engine).id or 0
    add_member(engine, group_id, "u-zhang", "张大爷")
    with session(engine) as db:
        group = db.get(Group, group_id)
        add_item(db, group, ItemFields("改厕", 20, yearly_cap=1))
        find_item(db, group, "改厕", PointsRules())  # the built-ins are on the list too now
    return group_id


def award(db: Session, group_id: int, giver: Giver) -> None:
    group = db.get(Group, group_id)
    assert group is not None
    member = db.exec(select(Member).where(Member.user_id == "u-zhang")).one()
    give(db, group, find_item(db, group, "改厕", PointsRules()), member, giver)


def try_award(engine: Engine, group_id: int, giver: Giver) -> str:
    try:
        with session(engine) as db:
            award(db, group_id, giver)
        return "given"
    except PointsError as refused:
        return str(refused)


def waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalar())


def given(engine: Engine) -> int:
    with session(engine) as db:
        return len(db.exec(select(PointsEntry).where(PointsEntry.reason == "item")).all())


async def test_a_second_award_while_the_first_is_open_waits_and_is_refused_on_postgres(
        pg_url: str) -> None:
    engine = open_database(pg_url)
    group_id = a_village_with_a_yearly_item(engine)
    with Session(engine, expire_on_commit=False) as held, ThreadPoolExecutor(1) as pool:
        award(held, group_id, LIBO)  # stored, not yet committed
        second = pool.submit(try_award, engine, group_id, WANG)
        await eventually(lambda: waiting_for_a_lock(engine))  # it waits for the first
        held.commit()
        told = second.result(timeout=15)
    assert "已经记满 1 次" in told
    assert given(engine) == 1
    engine.dispose()


def test_a_second_award_after_the_first_is_refused_on_sqlite(engine: Engine) -> None:
    group_id = a_village_with_a_yearly_item(engine)
    assert try_award(engine, group_id, LIBO) == "given"
    assert "已经记满 1 次" in try_award(engine, group_id, WANG)
    assert given(engine) == 1
