"""Hamlets and attendance on the inbound path's batched writes, on SQLite and PostgreSQL: the
sender's 屋场 read with the sender, a talk's place naming a hamlet, and each person once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.chat.ingest import Ingest
from bot.core.db import open_database, session
from bot.core.models import Attendance, Group, Member, NightTalk, Suggestion
from bot.domain.attendance import check_in, participants
from bot.domain.hamlets import add_hamlet, assign_member
from bot.domain.nighttalks import open_night_talk, schedule_night_talk
from bot.domain.suggestions import Raised, prepare_suggestion
from scheduler.dbtypes import utcnow


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield request.getfixturevalue("engine")
        return
    engine = open_database(request.getfixturevalue("pg_url"))
    yield engine
    engine.dispose()


async def test_suggestions_in_a_talk_take_their_hamlet_and_count_their_authors_once(
    database: Engine
) -> None:
    with session(database) as db:
        group = Group(platform="onebot", chat_id="1001", name="枫树村QQ群", hamlet="枫树屋场")
        db.add(group)
        db.flush()
        add_hamlet(db, group, "上湾")
        add_hamlet(db, group, "杨家冲")
        zhang = Member(group_id=group.id or 0, user_id="u-zhang", display_name="张大爷")
        db.add(zhang)
        db.flush()
        assign_member(db, group.id or 0, zhang, "上湾")
        talk = schedule_night_talk(db, group=group, topic="修路", place="杨家冲禾坪",
                                   starts_at=utcnow() + timedelta(minutes=5))
        talk_id = talk.id or 0
        open_night_talk(db, talk_id)
        db.expunge(group)
    ingest = Ingest(database)
    zhang_sender, li_sender = await asyncio.gather(ingest.sender("onebot", "1001", "u-zhang"),
                                                   ingest.sender("onebot", "1001", "u-li"))
    assert zhang_sender is not None and zhang_sender.hamlet == "上湾"
    assert li_sender is not None and li_sender.hamlet == ""

    def raised(message_id: str, author: str, name: str, hamlet: str) -> Raised:
        row = prepare_suggestion(group=group, platform="onebot", chat_id="1001",
                                 message_id=message_id, author_id=author, author_name=name,
                                 text="路灯坏了", hamlet=hamlet)
        return Raised(row, points=2, join_open_talk=True, hamlet_from_talk=not hamlet)

    await asyncio.gather(ingest.suggestion(raised("a", "u-zhang", "张大爷", "上湾")),
                         ingest.suggestion(raised("b", "u-li", "李婶", "")),
                         ingest.suggestion(raised("c", "u-li", "李婶", "")))
    with session(database) as db:
        rows = db.exec(select(Suggestion).order_by(col(Suggestion.id))).all()
        assert [(s.author_name, s.hamlet, s.night_talk_id) for s in rows] == [
            ("张大爷", "上湾", talk_id), ("李婶", "杨家冲", talk_id), ("李婶", "杨家冲", talk_id)]
        assert not check_in(db, talk_id, "u-li", "李婶")  # counted already, by her suggestion
        assert check_in(db, talk_id, "u-wang", "王奶奶")
        assert len(db.exec(select(Attendance)).all()) == 3
        counted = participants(db, db.get_one(NightTalk, talk_id))
        assert (counted.in_chat, counted.in_person, counted.total) == (3, 0, 3)
