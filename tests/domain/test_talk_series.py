"""Repeating night talks in storage: the next one is put on when one ends or is called off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.db import open_database, session
from bot.core.models import Group, NightTalk, NightTalkStatus
from bot.domain.nighttalks import (
    ANNOUNCE,
    REMIND_30,
    REMIND_EVE,
    cancel_night_talk,
    close_night_talk,
    confirm_night_talk,
    schedule_night_talk,
    talk_ref,
)
from bot.domain.talk_drafts import draft_night_talk, understood_text
from bot.domain.talk_time import read_talk_time
from scheduler.timers import get_timer
from tests.support.builders import add_group

SHANGHAI = ZoneInfo("Asia/Shanghai")
SATURDAY = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # Saturday 5 Dec, 15:00 in the village


def local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def draft(engine: Engine, said: str, now: datetime = SATURDAY) -> int:
    group_id = add_group(engine).id
    with session(engine) as db:
        group = db.get(Group, group_id)
        assert group is not None
        talk = draft_night_talk(db, group=group, read=read_talk_time(said, SHANGHAI, now),
                                topic="村务公开", place="晒谷坪", host="李伯", created_by="u1",
                                now=now)
        assert talk.id is not None
        return talk.id


def all_talks(engine: Engine) -> list[NightTalk]:
    with session(engine) as db:
        return list(db.exec(select(NightTalk).order_by(col(NightTalk.id))))


def test_a_series_is_said_back_with_its_rhythm_and_next_date(engine: Engine) -> None:
    talk_id = draft(engine, "每月第一个周五晚上7点半")
    with session(engine) as db:
        talk = db.get(NightTalk, talk_id)
        group = db.get(Group, talk.group_id) if talk else None
        assert talk is not None and group is not None
        said = understood_text(db, talk, group, SATURDAY)
    assert said.startswith(
        "我看到的是：每月第一个星期五 晚上7点半，下一次是2027年1月1日（星期五）晚上7点半")
    assert "在晒谷坪" in said and "村务公开" in said and "「确认」" in said


def test_closing_a_talk_of_a_series_puts_on_the_next_announced_days_ahead(
    engine: Engine
) -> None:
    talk_id = draft(engine, "每周五晚上7点半")
    with session(engine) as db:
        first = confirm_night_talk(db, talk_id, now=SATURDAY)
        assert local(first.starts_at) == "2026-12-11 19:30"
        close_night_talk(db, talk_id, now=first.ends_at)
    first, second = all_talks(engine)
    assert local(second.starts_at) == "2026-12-18 19:30"
    assert (second.status, second.series_id) == (NightTalkStatus.SCHEDULED, first.series_id)
    with session(engine) as db:
        ref = talk_ref(second.id or 0)
        timers = [get_timer(db, kind, ref) for kind in (ANNOUNCE, REMIND_EVE, REMIND_30)]
    # Announced three days ahead, reminded the evening before and half an hour before.
    assert [local(t.due_at) if t else None for t in timers] == [
        "2026-12-15 19:30", "2026-12-17 20:00", "2026-12-18 19:00"]


def test_a_series_skips_a_date_another_talk_holds(engine: Engine) -> None:
    talk_id = draft(engine, "每月15号晚上8点")
    with session(engine) as db:
        first = confirm_night_talk(db, talk_id, now=SATURDAY)
        group = db.get(Group, first.group_id)
        assert group is not None
        schedule_night_talk(db, group=group, topic="过年安排",
                            starts_at=datetime(2027, 1, 15, 11, 0, tzinfo=UTC), now=SATURDAY)
        cancel_night_talk(db, talk_id, now=SATURDAY)
    talks = all_talks(engine)
    assert [(t.topic, local(t.starts_at), t.status) for t in talks] == [
        ("村务公开", "2026-12-15 20:00", NightTalkStatus.CANCELLED),
        ("过年安排", "2027-01-15 19:00", NightTalkStatus.SCHEDULED),
        ("村务公开", "2027-02-15 20:00", NightTalkStatus.SCHEDULED)]


def test_a_series_confirmed_after_its_first_date_begins_with_the_next(engine: Engine) -> None:
    friday = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)  # 18:00: this evening's is the first
    talk_id = draft(engine, "每周五晚上7点半", now=friday)
    late = friday + timedelta(hours=2)  # 20:00, the first one gone by
    with session(engine) as db:
        talk = confirm_night_talk(db, talk_id, now=late)
        assert local(talk.starts_at) == "2026-12-18 19:30"
        assert talk.ends_at - talk.starts_at == timedelta(hours=2)


def test_an_unconfirmed_draft_is_never_put_on(engine: Engine) -> None:
    talk_id = draft(engine, "下周三晚上8点")
    with session(engine) as db:
        assert get_timer(db, ANNOUNCE, talk_ref(talk_id)) is None
    later = SATURDAY + timedelta(days=1, minutes=1)
    with session(engine) as db:
        try:
            confirm_night_talk(db, talk_id, now=later)
        except ValueError as exc:
            assert "不是在等确认" in str(exc)
        else:
            raise AssertionError("a day-old draft was confirmed")
    assert all_talks(engine)[0].status is NightTalkStatus.DRAFT


def test_drafts_and_series_are_stored_on_postgres_too(pg_url: str) -> None:
    engine = open_database(pg_url)  # built by the migrations, the new status included
    try:
        talk_id = draft(engine, "每月第一个周五晚上7点半")
        assert all_talks(engine)[0].status is NightTalkStatus.DRAFT
        with session(engine) as db:
            confirm_night_talk(db, talk_id, now=SATURDAY)
        [talk] = all_talks(engine)
        assert talk.status is NightTalkStatus.SCHEDULED and talk.series_id is not None
    finally:
        engine.dispose()
