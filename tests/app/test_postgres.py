"""PostgreSQL instead of SQLite: migrations, aware times, the ledger's claim, batched writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.chat.ingest import Ingest
from bot.core.db import open_database, session
from bot.core.models import Group, Member, PointsEntry, Suggestion
from bot.domain.suggestions import Raised, prepare_suggestion
from scheduler.models import Delivery
from scheduler.schedules import add_schedule
from scheduler.service import Scheduler

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_migrations_apply_twice_and_times_come_back_aware_utc(pg_url: str) -> None:
    engine = open_database(pg_url)
    open_database(pg_url).dispose()  # a second start finds the schema current
    with session(engine) as db:
        db.add(Group(platform="web", chat_id="fengshu", name="枫树屋场"))
    with session(engine) as db:
        group = db.exec(select(Group)).one()
    assert group.created_at.tzinfo is not None
    assert group.created_at.utcoffset() == timedelta(0)
    engine.dispose()


async def test_two_instances_on_one_postgres_claim_each_occurrence_once(pg_url: str) -> None:
    engine = open_database(pg_url)
    handed: list[Delivery] = []

    async def deliver(row: Delivery) -> None:
        await asyncio.sleep(0)
        handed.append(row)

    with session(engine) as db:
        add_schedule(db, "telecom-fraud", [(g, "Asia/Shanghai") for g in range(1, 21)],
                     cron="*/5 * * * *", now=T0)
    one, two = Scheduler(engine, deliver), Scheduler(engine, deliver)
    now = T0 + timedelta(minutes=12)
    await asyncio.gather(one.run_due(now), two.run_due(now), one.run_due(now))

    keys = [(r.group_id, r.occurrence) for r in handed]
    assert len(keys) == len(set(keys)) == 20 * 3
    with session(engine) as db:
        assert len(db.exec(select(Delivery)).all()) == 60
    engine.dispose()


async def test_batched_inbound_writes_work_on_postgres(pg_url: str) -> None:
    engine = open_database(pg_url)
    with session(engine) as db:
        group = Group(platform="onebot", chat_id="1001", name="枫树村QQ群", hamlet="上屋场")
        db.add(group)
    ingest = Ingest(engine)

    def raised(message_id: str) -> Raised:
        return Raised(prepare_suggestion(group=group, platform="onebot", chat_id="1001",
                                         message_id=message_id, author_id="u1",
                                         author_name="张大爷", text="村口路灯坏了"),
                      points=2, join_open_talk=True)

    sender = await ingest.sender("onebot", "1001", "u1")
    await ingest.remember(group.id or 0, "u1", "张大爷")
    results = await asyncio.gather(*(ingest.suggestion(raised(m)) for m in ("a", "b", "a")))
    known = await ingest.sender("onebot", "1001", "u1")

    assert sender is not None and sender.name is None
    assert known is not None and known.name == "张大爷" and known.group.hamlet == "上屋场"
    assert sorted(results) == [(1, False), (1, True), (2, True)]
    with session(engine) as db:
        assert len(db.exec(select(Suggestion)).all()) == 2
        assert len(db.exec(select(PointsEntry)).all()) == 2
    engine.dispose()


async def test_members_posting_at_once_on_postgres_are_each_stored_once(pg_url: str) -> None:
    """Batches written side by side: every suggestion once, a redelivery finds its number,
    each member once with their latest name, and nothing is refused as busy."""
    engine = open_database(pg_url)
    with session(engine) as db:
        group = Group(platform="onebot", chat_id="1001", name="枫树村QQ群")
        db.add(group)
    ingest = Ingest(engine)

    async def posts(n: int) -> tuple[int, bool]:
        user = f"u{n % 20}"
        await ingest.remember(group.id or 0, user, f"村民{n % 20}")
        return await ingest.suggestion(Raised(prepare_suggestion(
            group=group, platform="onebot", chat_id="1001", message_id=f"m{n % 300}",
            author_id=user, author_name=f"村民{n % 20}", text=f"第{n % 300}条建议"), points=2))

    results = await asyncio.gather(*(posts(n) for n in range(600)))
    with session(engine) as db:
        stored = db.exec(select(Suggestion)).all()
        points = db.exec(select(PointsEntry)).all()
        members = db.exec(select(Member)).all()
    engine.dispose()
    assert sum(created for _number, created in results) == 300
    assert {number for number, _created in results} == {s.id for s in stored}
    assert len(stored) == 300 and len(points) == 300
    assert sorted(m.user_id for m in members) == sorted(f"u{n}" for n in range(20))
