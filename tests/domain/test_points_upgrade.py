"""A database from before the village's points list: every figure stays as it was."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlmodel import col, select

from bot.core.db import open_database, session
from bot.core.models import Group, PointsEntry, PointsItem
from bot.domain.points import ADOPTED, LISTEN, SUGGEST, PointsRules, leaderboard, standing
from bot.domain.points_items import builtin_value, village_items
from tests.support.migrations import database_at

ENTRIES = [  # user, name, reason, ref, points, when (UTC, as SQLite held it)
    ("u1", "张大爷", "listen", "1", 1, "2026-10-05 12:00:00.000000"),
    ("u1", "张大爷", "suggest", "1", 2, "2026-10-05 12:05:00.000000"),
    ("u1", "张大爷", "adopted", "1", 5, "2026-11-02 02:00:00.000000"),
    ("u2", "李婶", "listen", "1", 1, "2026-10-05 12:01:00.000000"),
    ("u2", "李婶", "suggest", "2", 3, "2026-11-03 12:00:00.000000"),  # 3: the rules of then
    ("u3", "王伯", "listen", "2", 1, "2026-10-31 17:00:00.000000"),  # 11月1日 01:00 local
]


def made_at_0011(path: Path) -> str:
    """A database at migration 0011 holding one group and the points above."""
    with database_at(path, "0011") as connection:
        connection.execute(text(
            "INSERT INTO chat_group (id, platform, chat_id, name, hamlet, timezone, "
            "speech_profile, created_at) VALUES (1, 'web', 'village', '枫树村大群', '', "
            "'Asia/Shanghai', 'default', '2026-09-01 00:00:00.000000')"))
        for user, name, reason, ref, points, when in ENTRIES:
            connection.execute(text(
                "INSERT INTO points_entry (group_id, user_id, user_name, reason, ref, points, "
                "created_at) VALUES (1, :user, :name, :reason, :ref, :points, :when)"),
                {"user": user, "name": name, "reason": reason, "ref": ref, "points": points,
                 "when": when})
    return f"sqlite:///{path}"


def test_totals_and_leaderboards_are_the_same_after_the_upgrade(tmp_path: Path) -> None:
    engine = open_database(made_at_0011(tmp_path / "old.db"))
    rules = PointsRules(listen=1, suggest=2, adopted=5)
    with session(engine) as db:
        assert [standing(db, 1, user) for user in ("u1", "u2", "u3")] == [
            (8, 1, 3), (4, 2, 3), (1, 3, 3)]
        assert leaderboard(db, 1, date(2026, 10, 1)) == [("张大爷", 3), ("李婶", 1)]
        assert leaderboard(db, 1, date(2026, 11, 1)) == [("张大爷", 5), ("李婶", 3),
                                                         ("王伯", 1)]
        group = db.get(Group, 1)
        assert group is not None and group.village_id is not None
        items = village_items(db, group, rules)
        assert [(i.kind, i.name, i.points) for i in items] == [
            (LISTEN, "听微党课", 1), (SUGGEST, "提建议", 2), (ADOPTED, "建议被采纳", 5)]
        # Raising the value on the list changes what is given from now on, not what was given.
        suggest = items[1]
        suggest.points = 4
        db.add(suggest)
        db.flush()
        assert builtin_value(db, 1, SUGGEST, rules) == (suggest.id, 4)
        assert standing(db, 1, "u2") == (4, 2, 3)
        stored = [(e.user_id, e.points, e.item_id, e.revoked_at)
                  for e in db.exec(select(PointsEntry).order_by(col(PointsEntry.id)))]
    assert stored == [(u, p, None, None) for u, _n, _r, _ref, p, _w in ENTRIES]
    with session(engine) as db:
        assert len(list(db.exec(select(PointsItem)))) == 3  # seeded once, not again
        village_items(db, db.get(Group, 1) or Group(), rules)
        assert len(list(db.exec(select(PointsItem)))) == 3
    engine.dispose()
