"""Inbound messages written in batches: together, once, and a bad one never costs the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.app import ENGINE, INGEST
from bot.chat.ingest import GROUP_FRESH_S, Ingest
from bot.core.db import session
from bot.core.models import Group, Hamlet, Member, PointsEntry, Role, Suggestion
from bot.domain.suggestions import Raised, prepare_suggestion
from bot.settings import Settings
from tests.support.answers import numbers_in
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import (
    GROUP,
    OTHER_GROUP,
    ZHANG,
    prepare_qq_groups,
    said,
    stored,
    with_onebot,
)
from tests.support.polling import eventually


def a_group(engine: Engine) -> Group:
    with session(engine) as db:
        group = Group(platform="onebot", chat_id="1001", name="枫树村QQ群", hamlet="上屋场")
        db.add(group)
    return group


def a_group_with_zhang(engine: Engine) -> Group:
    """The group, and 张大爷 (u1) a member of it."""
    group = a_group(engine)
    with session(engine) as db:
        db.add(Member(group_id=group.id or 0, user_id="u1", display_name="张大爷"))
    return group


def change_member(engine: Engine, user_id: str, **fields: object) -> None:
    """A change made outside the bot (the CLI, the console): committed at once."""
    with session(engine) as db:
        member = db.exec(select(Member).where(Member.user_id == user_id)).one()
        for name, value in fields.items():
            setattr(member, name, value)
        db.add(member)


def raised(group: Group, message_id: str, text: str = "村口路灯坏了", *,
           author: str = "u1") -> Raised:
    row = prepare_suggestion(group=group, platform="onebot", chat_id=group.chat_id,
                             message_id=message_id, author_id=author, author_name="张大爷",
                             text=text)
    return Raised(row, points=2, join_open_talk=True)


def count(engine: Engine, model: type) -> int:
    with Session(engine) as db:
        return int(db.exec(select(func.count()).select_from(model)).one())


async def test_messages_arriving_together_are_committed_in_one_transaction(
    engine: Engine
) -> None:
    group = a_group(engine)
    ingest = Ingest(engine)

    results = await asyncio.gather(*(ingest.suggestion(raised(group, f"m{n}", f"第{n}条建议"))
                                     for n in range(20)))

    assert all(created for _number, created in results)
    assert ingest.writes.batches == 1
    with Session(engine) as db:
        rows = list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))
        points = list(db.exec(select(PointsEntry)))
    assert [row.text for row in rows] == [f"第{n}条建议" for n in range(20)]
    # Each member is told the number their own suggestion was stored under.
    by_number = {row.id: row.text for row in rows}
    assert [by_number[number] for number, _created in results] == [
        f"第{n}条建议" for n in range(20)]
    assert {row.hamlet for row in rows} == {"上屋场"}
    assert sorted(int(p.ref) for p in points) == list(range(1, 21))
    assert {p.points for p in points} == {2}


async def test_the_same_message_twice_in_one_batch_is_one_suggestion_with_one_award(
    engine: Engine
) -> None:
    group = a_group(engine)
    ingest = Ingest(engine)

    first, again = await asyncio.gather(ingest.suggestion(raised(group, "m1")),
                                        ingest.suggestion(raised(group, "m1")))
    later = await ingest.suggestion(raised(group, "m1"))

    assert first == (1, True) and again == (1, False) and later == (1, False)
    assert count(engine, Suggestion) == 1 and count(engine, PointsEntry) == 1


async def test_a_batch_with_a_message_delivered_again_gives_each_message_its_own_number(
    engine: Engine
) -> None:
    group = a_group(engine)
    ingest = Ingest(engine)
    assert await ingest.suggestion(raised(group, "m1", "第一条")) == (1, True)

    results = await asyncio.gather(ingest.suggestion(raised(group, "m2", "第二条")),
                                   ingest.suggestion(raised(group, "m1", "第一条")),
                                   ingest.suggestion(raised(group, "m3", "第三条")))

    assert results == [(2, True), (1, False), (3, True)]
    with Session(engine) as db:
        assert {row.id: row.text for row in db.exec(select(Suggestion))} == {
            1: "第一条", 2: "第二条", 3: "第三条"}
        assert sorted(int(p.ref) for p in db.exec(select(PointsEntry))) == [1, 2, 3]


async def test_a_batch_stores_the_moment_it_was_given_in_any_time_zone(engine: Engine) -> None:
    group = a_group(engine)
    evening = datetime(2026, 3, 5, 20, 30, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    on_the_second = raised(group, "m1")
    on_the_second.row.update(created_at=evening, updated_at=evening)
    later = raised(group, "m2")
    later.row.update(created_at=evening + timedelta(microseconds=250),
                     updated_at=evening + timedelta(microseconds=250))

    await asyncio.gather(Ingest(engine).suggestion(on_the_second),
                         Ingest(engine).suggestion(later))

    with Session(engine) as db:
        rows = list(db.exec(select(Suggestion).order_by(col(Suggestion.created_at))))
        since = list(db.exec(select(Suggestion.message_id).where(
            col(Suggestion.created_at) > evening)))
    assert [row.created_at for row in rows] == [evening, evening + timedelta(microseconds=250)]
    assert all(row.created_at.tzinfo == UTC for row in rows)
    assert since == ["m2"]


async def test_a_broken_item_fails_alone_and_the_rest_of_its_batch_is_stored(
    engine: Engine
) -> None:
    group = a_group(engine)
    good = raised(group, "m2")
    broken = Raised({**good.row, "author_name": None}, points=2)  # violates NOT NULL
    ingest = Ingest(engine)

    outcomes = await asyncio.gather(ingest.suggestion(raised(group, "m1")),
                                    ingest.suggestion(broken),
                                    ingest.suggestion(raised(group, "m3")),
                                    return_exceptions=True)

    assert outcomes[0] == (1, True) and isinstance(outcomes[1], IntegrityError)
    assert outcomes[2][1] is True  # type: ignore[index]
    with Session(engine) as db:
        assert sorted(s.message_id for s in db.exec(select(Suggestion))) == ["m1", "m3"]
    assert count(engine, PointsEntry) == 2


async def test_senders_looked_up_together_keep_their_own_group_role_and_name(
    engine: Engine
) -> None:
    group = a_group_with_zhang(engine)
    ingest = Ingest(engine)

    known, stranger, elsewhere = await asyncio.gather(
        ingest.sender("onebot", "1001", "u1"), ingest.sender("onebot", "1001", "u2"),
        ingest.sender("onebot", "404", "u1"))

    assert known is not None and known.name == "张大爷" and known.group.name == "枫树村QQ群"
    assert stranger is not None and stranger.name is None and stranger.role is None
    assert elsewhere is None  # a group the bot does not serve
    await asyncio.gather(ingest.remember(group.id or 0, "u2", "李婶"),
                         ingest.remember(group.id or 0, "u1", "张大伯"))
    with Session(engine) as db:
        names = {m.user_id: m.display_name for m in db.exec(select(Member))}
    assert names == {"u1": "张大伯", "u2": "李婶"}


async def test_a_group_added_is_served_at_once_and_a_change_to_one_seen_within_a_second(
    engine: Engine
) -> None:
    ingest = Ingest(engine)
    assert await ingest.sender("onebot", "1001", "u1") is None  # not served yet
    group = a_group(engine)  # `yehua groups add`, say, from another process
    served = await ingest.sender("onebot", "1001", "u1")
    assert served is not None and served.group.hamlet == "上屋场", "served from its first message"
    with session(engine) as db:  # the secretary renames the group's default 屋场
        stored = db.get(Group, group.id)
        assert stored is not None
        stored.hamlet = "下屋场"
        db.add(stored)
    await asyncio.sleep(GROUP_FRESH_S + 0.1)
    later = await ingest.sender("onebot", "1001", "u1")
    assert later is not None and later.group.hamlet == "下屋场"


async def test_members_kept_between_messages_follow_every_change_made_elsewhere_at_once(
    engine: Engine
) -> None:
    group = a_group_with_zhang(engine)
    with session(engine) as db:
        hamlet = Hamlet(group_id=group.id or 0, name="上屋场")
        db.add(hamlet)
    ingest = Ingest(engine)
    first = await ingest.sender("onebot", "1001", "u1")
    assert first is not None and first.role == Role.MEMBER and first.hamlet == ""

    change_member(engine, "u1", role=Role.FACILITATOR, hamlet_id=hamlet.id)  # no waiting
    promoted = await ingest.sender("onebot", "1001", "u1")
    assert promoted is not None and promoted.role == Role.FACILITATOR
    assert promoted.hamlet == "上屋场"

    with session(engine) as db:  # the 屋场 renamed
        stored = db.get(Hamlet, hamlet.id)
        assert stored is not None
        stored.name = "下屋场"
        db.add(stored)
    assert (moved := await ingest.sender("onebot", "1001", "u1")) is not None
    assert moved.hamlet == "下屋场"

    with session(engine) as db:  # removed from the group's list
        db.delete(db.exec(select(Member).where(Member.user_id == "u1")).one())
    gone = await ingest.sender("onebot", "1001", "u1")
    assert gone is not None and gone.role is None and gone.name is None


async def test_a_new_member_kept_after_storing_is_seen_promoted_at_their_next_message(
    engine: Engine
) -> None:
    group = a_group(engine)
    ingest = Ingest(engine)
    new = await ingest.sender("onebot", "1001", "u9")
    assert new is not None and new.role is None
    await ingest.remember(group.id or 0, "u9", "王小妹", new=True)
    again = await ingest.sender("onebot", "1001", "u9")
    assert again is not None and (again.role, again.name) == (Role.MEMBER, "王小妹")

    change_member(engine, "u9", role=Role.FACILITATOR)  # right after her first message
    later = await ingest.sender("onebot", "1001", "u9")
    assert later is not None and later.role == Role.FACILITATOR


async def test_a_member_added_elsewhere_while_the_bot_stored_them_keeps_that_role(
    engine: Engine
) -> None:
    group = a_group(engine)
    ingest = Ingest(engine)
    assert (new := await ingest.sender("onebot", "1001", "u7")) is not None and new.role is None
    with session(engine) as db:  # `yehua members add --role secretary`, the same moment
        db.add(Member(group_id=group.id or 0, user_id="u7", display_name="李书记",
                      role=Role.SECRETARY))
    await ingest.remember(group.id or 0, "u7", "李书记", new=True)
    seen = await ingest.sender("onebot", "1001", "u7")
    assert seen is not None and seen.role == Role.SECRETARY


async def test_a_burst_of_qq_suggestions_is_stored_once_each_and_every_event_answered(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        events = [napcat.group_message(group, ZHANG + n % 3, said(f"建议 第{n}号路灯不亮"),
                                       nickname=f"村民{n % 3}")
                  for n in range(30) for group in (GROUP, OTHER_GROUP)]
        answers = await asyncio.gather(*(napcat.post_event(bot.url, e) for e in events))
        # NapCat retries when unsure: the same events again change nothing.
        again = await asyncio.gather(*(napcat.post_event(bot.url, e) for e in events[:10]))

        assert {status for status, _body in answers + again} == {204}
        rows = stored(bot.app)
        assert len(rows) == 60 and len({r.message_id for r in rows}) == 60
        assert sorted(r.text for r in rows if r.chat_id == str(GROUP)) == sorted(
            f"第{n}号路灯不亮" for n in range(30))
        assert bot.app[INGEST].writes.batches < 60, "the burst was batched"
        with session(bot.app[ENGINE]) as db:
            members = list(db.exec(select(Member)))
        assert len(members) == 6 and {m.display_name for m in members} == {
            "村民0", "村民1", "村民2"}
        # Each group's answers name every suggestion stored there, once (a burst's receipts
        # gathered into a few messages).
        for group in (GROUP, OTHER_GROUP):
            numbers = sorted(r.id or 0 for r in rows if r.chat_id == str(group))
            await eventually(lambda group=group, numbers=numbers: sorted(
                n for s in napcat.answered(group) for n in numbers_in(s.text)) == numbers,
                within=10)
