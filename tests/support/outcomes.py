"""A March of two villages with known figures: night talks, who came, suggestions and deadlines.

Written as rows, since handlers, deadlines, hamlets and attendance are written by other parts
of the bot; the figures read them back.

Expected for March 2026 (Shanghai), overdue counted now:
- talks 3 (a cancelled one and an April one left out); people 21, person-times 22;
- raised 10, adopted 7, done 5, declined 1: adoption 70.0%, completion 71.4%;
- days to done 1, 2, 3, 5, 10: median 3.0, 90th percentile 10.0; overdue 1 (no. 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.core.db import session
from bot.core.models import (
    Attendance,
    AttendanceHow,
    Group,
    Hamlet,
    NightTalk,
    NightTalkStatus,
    Suggestion,
    SuggestionStatus,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = SuggestionStatus
T = NightTalkStatus
PHONE = "13800138000"  # the grid worker's: never on the public ledger


def local(month: int, day: int, hour: int = 20, year: int = 2026) -> datetime:
    """A Shanghai wall-clock time as stored (aware UTC)."""
    return datetime(year, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Village:
    """The ids the tests look up."""

    fengshu: int
    shimen: int


# number, group, hamlet, category, raised, status, days to done, due, handler (name, role)
ROWS = [
    (1, "f", "枫树屋场", "roads", local(3, 5), S.DONE, 1, None, ("李书记", "村委会")),
    (2, "f", "枫树屋场", "roads", local(3, 6), S.DONE, 3, None, None),
    (3, "f", "枫树屋场", "water", local(3, 7), S.DONE, 5, None, None),
    (4, "f", "枫树屋场", "roads", local(3, 8), S.IN_PROGRESS, None, local(3, 30, 12),
     ("王网格", "网格员")),
    (5, "f", "枫树屋场", "roads", local(3, 9), S.ADOPTED, None, local(1, 1, 12, year=2099),
     ("修路队老张", "")),
    (6, "f", "杨柳屋场", "roads", local(3, 10), S.DONE, 10, None, None),
    (7, "f", "杨柳屋场", "roads", local(3, 11), S.DECLINED, None, local(3, 12), None),
    (8, "f", "杨柳屋场", "other", local(3, 12), S.NEW, None, None, None),
    (9, "s", "石门屋场", "water", local(3, 13), S.DONE, 2, None, None),
    (10, "s", "石门屋场", "water", local(3, 14), S.NEW, None, None, None),
    (11, "s", "石门屋场", "water", local(4, 5), S.NEW, None, None, None),  # April
    (12, "f", "枫树屋场", "roads", local(3, 5, 21), S.NEW, None, None, None),  # merged into 1
]


def seed_village(engine: Engine) -> Village:
    """Two groups, three March talks with attendance, twelve suggestions (see the module)."""
    with session(engine) as db:
        fengshu = Group(platform="web", chat_id="fengshu", name="枫树村群", hamlet="枫树屋场")
        shimen = Group(platform="web", chat_id="shimen", name="石门村群", hamlet="石门屋场")
        db.add_all([fengshu, shimen])
        db.flush()
        assert fengshu.id and shimen.id
        db.add_all([Hamlet(group_id=fengshu.id, name="枫树屋场"),
                    Hamlet(group_id=fengshu.id, name="杨柳屋场")])
        talks = [  # group, place, day, status, walk-ins, people checked in
            (fengshu.id, "杨柳屋场", local(3, 5), T.CLOSED, 10, ["u:1", "u:2", "u:3", "n:张三"]),
            (fengshu.id, "晒谷坪", local(3, 12), T.CLOSED, 0, ["u:1", "u:4"]),
            (shimen.id, "", local(3, 20), T.CLOSED, 5, ["u:1"]),
            (fengshu.id, "", local(3, 25), T.CANCELLED, 0, []),
            (fengshu.id, "", local(4, 2), T.CLOSED, 3, ["u:1"]),
        ]
        for group_id, place, starts, status, walk_ins, people in talks:
            talk = NightTalk(group_id=group_id, topic="村里的事", place=place, starts_at=starts,
                             ends_at=starts + timedelta(hours=2), status=status,
                             walk_ins=walk_ins)
            db.add(talk)
            db.flush()
            assert talk.id
            for person in people:
                db.add(Attendance(night_talk_id=talk.id, person=person, name=person[2:],
                                  how=AttendanceHow.CHECK_IN))
        for number, g, hamlet, category, raised, status, days, due, handler in ROWS:
            group = fengshu if g == "f" else shimen
            db.add(Suggestion(
                id=number, group_id=group.id, hamlet=hamlet, platform="web",
                chat_id=group.chat_id, message_id=f"m{number}", author_id=f"u{number}",
                author_name=f"村民{number}", text=f"第{number}条建议", category=category,
                status=status, created_at=raised, updated_at=raised,
                done_at=raised + timedelta(days=days) if days is not None else None,
                due_at=due, handler_name=handler[0] if handler else None,
                handler_role=(handler[1] or None) if handler else None,
                handler_phone=PHONE if handler else None,
                assigned_at=raised if handler else None,
                reply="路灯换好了" if status == S.DONE else None,
                merged_into=1 if number == 12 else None))
            db.flush()
        return Village(fengshu.id, shimen.id)
