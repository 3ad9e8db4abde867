"""Deadlines as a secretary types them, the assignment's words, and what counts as overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.chat.commands.handling import Assignment, parse_assignment
from bot.core.db import session
from bot.core.models import Role, Suggestion, SuggestionStatus
from bot.domain.handling import (
    Handler,
    assign,
    due_end,
    find_handler,
    is_overdue,
    overdue_suggestions,
)
from bot.domain.suggestions import SuggestionError, add_suggestion, change_status
from bot.domain.talk_time import TalkTimeError, TalkTimePast, read_day
from tests.support.builders import add_group, add_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
THURSDAY = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 Dec, 10:00 in the village


@pytest.mark.parametrize(("said", "day"), [
    ("下周五前", date(2026, 12, 11)), ("下周五", date(2026, 12, 11)),
    ("12月20号", date(2026, 12, 20)), ("12月20号前", date(2026, 12, 20)),
    ("3天内", date(2026, 12, 6)), ("三天内", date(2026, 12, 6)), ("一周内", date(2026, 12, 10)),
    ("两个星期内", date(2026, 12, 17)), ("月底", date(2026, 12, 31)), ("明天", date(2026, 12, 4)),
    ("今天", date(2026, 12, 3)), ("1月5号", date(2027, 1, 5)), ("周二", date(2026, 12, 8)),
])
def test_deadlines_are_read_as_people_type_them(said: str, day: date) -> None:
    assert read_day(said, SHANGHAI, THURSDAY) == day


def test_a_past_day_is_refused_and_nonsense_is_not_read() -> None:
    with pytest.raises(TalkTimePast):
        read_day("昨天", SHANGHAI, THURSDAY)
    with pytest.raises(TalkTimePast):
        read_day("12月1号", SHANGHAI, THURSDAY)
    with pytest.raises(TalkTimeError):
        read_day("随便哪天", SHANGHAI, THURSDAY)


@pytest.mark.parametrize(("typed", "parsed"), [
    ("李伯 下周五前 已列入计划", Assignment("李伯", when="下周五前", rest="已列入计划")),
    ("@李伯 3天内", Assignment("李伯", when="3天内")),
    ("王师傅（修路队） 13800001111 12月20号 前 尽快",
     Assignment("王师傅", "修路队", "13800001111", "12月20号", "尽快")),
    ("王师傅 (修路队) 138-0000-1111", Assignment("王师傅", "修路队", "138-0000-1111")),
    ("李伯 路灯明天就修", Assignment("李伯", rest="路灯明天就修")),
])
def test_an_assignment_is_split_into_who_phone_deadline_and_reply(
        typed: str, parsed: Assignment) -> None:
    assert parse_assignment(typed) == parsed


def test_an_item_is_overdue_only_after_its_day_has_ended_and_while_it_is_open(
        engine: Engine) -> None:
    group = add_group(engine)
    assert group.id is not None
    add_member(engine, group.id, "u-li", "李伯", Role.FACILITATOR)
    add_member(engine, group.id, "u-li2", "李伯娘")
    with session(engine) as db:
        row, _ = add_suggestion(db, group=group, platform="web", chat_id="fengshu",
                                message_id="m1", author_id="u-zhang", author_name="张大爷",
                                text="村口路灯坏了", now=THURSDAY)
        change_status(db, 1, SuggestionStatus.ADOPTED, actor_id="s", actor_name="书记",
                      now=THURSDAY)
        handler = find_handler(db, group.id, "李伯")
        assert handler == Handler("李伯", user_id="u-li", role="话事佬")
        with pytest.raises(SuggestionError, match="好几位"):
            find_handler(db, group.id, "李")
        assign(db, 1, handler, due_at=due_end(date(2026, 12, 4), "Asia/Shanghai"),
               actor_id="s", actor_name="书记", now=THURSDAY)
    end_of_day = datetime(2026, 12, 4, 15, 59, tzinfo=UTC)  # 23:59 in the village
    with session(engine) as db:
        row = db.exec(select(Suggestion)).one()
        assert not is_overdue(row, end_of_day)
        assert is_overdue(row, end_of_day + timedelta(minutes=1))
        assert [r.id for r in overdue_suggestions(db, end_of_day + timedelta(minutes=1))] == [1]
        change_status(db, 1, SuggestionStatus.DONE, actor_id="u-li", actor_name="李伯",
                      reply="修好了", now=end_of_day + timedelta(days=1))
    with session(engine) as db:
        row = db.exec(select(Suggestion)).one()
        assert not is_overdue(row, end_of_day + timedelta(days=2))
        assert row.done_at is not None and row.handler_name == "李伯"
        assert overdue_suggestions(db, end_of_day + timedelta(days=2)) == []
