"""Rows written in batches through SQLite's driver read back exactly as given, NULLs included:
a batch leaves out of its statement the columns empty in every row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.messages import OutgoingText
from bot.core.models import Reply
from bot.outbox.replies import reply_row, store_replies
from scheduler.dbtypes import utcnow

REPLIES = Reply.__table__  # type: ignore[attr-defined]


def stored(engine: Engine) -> list[tuple[str, int | None, bool]]:
    with engine.connect() as connection:
        rows = connection.execute(select(REPLIES.c.message_id, REPLIES.c.suggestion,
                                         REPLIES.c.hold_until).order_by(REPLIES.c.id))
        return [(message, number, held is not None) for message, number, held in rows]


def test_answers_read_back_as_stored_whether_a_column_is_empty_in_all_rows_or_some(
        engine: Engine) -> None:
    now = utcnow()
    answer = OutgoingText("收到，第 1 号建议", reply_to="1", private_to="7")
    all_empty = [reply_row("onebot", "100", str(n), 0, answer, now=now) for n in (1, 2)]
    mixed = [reply_row("onebot", "100", "3", 0, answer, suggestion=3, now=now,
                       hold_until=now + timedelta(seconds=30)),
             reply_row("onebot", "100", "4", 0, answer, now=now)]
    with engine.begin() as connection:
        store_replies(connection, all_empty)
    with engine.begin() as connection:
        store_replies(connection, mixed)
        store_replies(connection, mixed)  # delivered again: found stored, not stored twice
    assert stored(engine) == [("1", None, False), ("2", None, False), ("3", 3, True),
                              ("4", None, False)]
