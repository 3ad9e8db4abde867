"""The points shop: balances, refusals, and redemptions racing on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.db import open_database, session
from bot.core.models import Group, PointsEntry, Redemption, ShopGood
from bot.domain.shop import Receipt, ShopError, add_good, balance, edit_good, find_good, redeem
from bot.domain.villages import village_id_of
from tests.support.builders import add_group
from tests.support.polling import eventually

WANG = ("user-wang-nainai", "王奶奶")
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def earn(engine: Engine, group_id: int, points: int, ref: str, *, revoked: bool = False
         ) -> None:
    with session(engine) as db:
        db.add(PointsEntry(group_id=group_id, user_id=WANG[0], user_name=WANG[1], reason="item",
                           ref=ref, points=points, created_at=T0,
                           revoked_at=T0 if revoked else None))


def a_village(engine: Engine, *, points: int, goods: dict[str, tuple[int, int]]) -> Group:
    """A group whose member 王奶奶 has `points`, and a shop with goods name: (price, stock)."""
    group = add_group(engine, "雨坛村", chat_id="yutan")
    assert group.id is not None
    earn(engine, group.id, points, "a")
    with session(engine) as db:
        village = village_id_of(db, group)
        for name, (price, stock) in goods.items():
            add_good(db, village, name, price=price, stock=stock)
    return group


def try_redeem(engine: Engine, group: Group, good: str) -> Receipt | ShopError:
    try:
        with session(engine) as db:
            return redeem(db, group, user_id=WANG[0], user_name=WANG[1], good_name=good)
    except ShopError as exc:
        return exc


def stock(engine: Engine, name: str) -> int:
    with session(engine) as db:
        return db.exec(select(ShopGood.stock).where(ShopGood.name == name)).one()


def spend_of(engine: Engine, group: Group) -> int:
    with session(engine) as db:
        return balance(db, village_id_of(db, group), WANG[0])


def race(*jobs: Callable[[], Receipt | ShopError]) -> list[Receipt | ShopError]:
    """Run the jobs in threads released together."""
    gate = threading.Barrier(len(jobs))

    def run(job: Callable[[], Receipt | ShopError]) -> Receipt | ShopError:
        gate.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_balance_counts_what_was_earned_and_not_revoked_minus_what_was_spent(
        engine: Engine) -> None:
    group = a_village(engine, points=75, goods={"洗衣粉": (30, 5)})
    assert group.id is not None
    earn(engine, group.id, 100, "b", revoked=True)
    other = add_group(engine, "别的村", chat_id="other")  # another village's points never count
    assert other.id is not None
    earn(engine, other.id, 500, "c")

    receipt = try_redeem(engine, group, "洗衣粉")

    assert isinstance(receipt, Receipt)
    assert receipt.receipt() == "您用 30 分换了 洗衣粉 ×1，还剩 45 分。"
    assert spend_of(engine, group) == 45 and stock(engine, "洗衣粉") == 4


def test_a_redemption_beyond_the_balance_or_the_stock_is_refused_and_changes_nothing(
        engine: Engine) -> None:
    group = a_village(engine, points=50, goods={"洗衣粉": (30, 5), "大米": (10, 1)})

    with session(engine) as db, pytest.raises(ShopError, match="现在只有 50 分"):
        redeem(db, group, user_id=WANG[0], user_name=WANG[1], good_name="洗衣粉", quantity=2)
    with session(engine) as db, pytest.raises(ShopError, match="只剩 1 件，要换 2 件"):
        redeem(db, group, user_id=WANG[0], user_name=WANG[1], good_name="米", quantity=2)
    with session(engine) as db, pytest.raises(ShopError, match="没有「酱油」。现有：大米、洗衣粉"):
        find_good(db, village_id_of(db, group), "酱油")

    assert stock(engine, "洗衣粉") == 5 and stock(engine, "大米") == 1
    assert spend_of(engine, group) == 50
    with session(engine) as db:
        assert db.exec(select(Redemption)).all() == []


def test_a_good_taken_off_sale_is_not_redeemed_and_a_new_price_leaves_old_spends(
        engine: Engine) -> None:
    group = a_village(engine, points=100, goods={"洗衣粉": (30, 5)})
    assert isinstance(try_redeem(engine, group, "洗衣粉"), Receipt)
    with session(engine) as db:
        good = db.exec(select(ShopGood)).one()
        edit_good(db, good, price=40, active=False)

    refused = try_redeem(engine, group, "洗衣粉")

    assert isinstance(refused, ShopError) and "已经下架" in str(refused)
    assert spend_of(engine, group) == 70  # the first one still cost 30


def test_two_redemptions_of_the_last_one_on_sqlite_give_it_once(engine: Engine) -> None:
    group = a_village(engine, points=1000, goods={f"毛巾{n}": (10, 1) for n in range(5)})
    for n in range(5):
        results = race(lambda n=n: try_redeem(engine, group, f"毛巾{n}"),
                       lambda n=n: try_redeem(engine, group, f"毛巾{n}"))
        assert sorted(type(r).__name__ for r in results) == ["Receipt", "ShopError"]
        assert stock(engine, f"毛巾{n}") == 0
    assert spend_of(engine, group) == 1000 - 50


def test_two_redemptions_of_one_member_on_sqlite_never_spend_below_zero(
        engine: Engine) -> None:
    group = a_village(engine, points=50, goods={"洗衣粉": (30, 5), "香皂": (30, 5)})

    results = race(lambda: try_redeem(engine, group, "洗衣粉"),
                   lambda: try_redeem(engine, group, "香皂"))

    assert sorted(type(r).__name__ for r in results) == ["Receipt", "ShopError"]
    assert spend_of(engine, group) == 20
    assert stock(engine, "洗衣粉") + stock(engine, "香皂") == 9  # the refused one's went back


def waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalar())


async def held_then_raced(engine: Engine, group: Group, first: str, second: str
                          ) -> Receipt | ShopError:
    """Redeem `first` in an open transaction; redeem `second` meanwhile; it must wait."""
    with Session(engine, expire_on_commit=False) as held, ThreadPoolExecutor(1) as pool:
        redeem(held, group, user_id=WANG[0], user_name=WANG[1], good_name=first)
        later = pool.submit(try_redeem, engine, group, second)
        await eventually(lambda: waiting_for_a_lock(engine))
        held.commit()
        return later.result(timeout=15)


async def test_on_postgres_the_last_one_in_stock_goes_once_while_the_first_is_open(
        pg_url: str) -> None:
    engine = open_database(pg_url)
    group = a_village(engine, points=100, goods={"洗衣粉": (30, 1)})

    second = await held_then_raced(engine, group, "洗衣粉", "洗衣粉")

    assert isinstance(second, ShopError) and "只剩 0 件" in str(second)
    assert stock(engine, "洗衣粉") == 0 and spend_of(engine, group) == 70
    engine.dispose()


async def test_on_postgres_one_members_two_redemptions_never_spend_below_zero(
        pg_url: str) -> None:
    engine = open_database(pg_url)
    group = a_village(engine, points=50, goods={"洗衣粉": (30, 5), "香皂": (30, 5)})

    second = await held_then_raced(engine, group, "洗衣粉", "香皂")

    assert isinstance(second, ShopError) and "现在只有 20 分" in str(second)
    assert spend_of(engine, group) == 20
    assert (stock(engine, "洗衣粉"), stock(engine, "香皂")) == (4, 5)
    engine.dispose()


def test_on_postgres_threads_racing_for_the_last_ones_never_oversell(pg_url: str) -> None:
    engine = open_database(pg_url)
    group = a_village(engine, points=1000, goods={"毛巾": (10, 2)})

    results = race(*[lambda: try_redeem(engine, group, "毛巾")] * 4)

    assert sorted(type(r).__name__ for r in results) == ["Receipt"] * 2 + ["ShopError"] * 2
    assert stock(engine, "毛巾") == 0 and spend_of(engine, group) == 980
    engine.dispose()
