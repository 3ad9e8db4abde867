"""A year of village reports in one database: two groups, a night talk, suggestions, lessons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.core.db import open_database, session
from bot.core.models import (
    Group,
    NightTalk,
    PointsEntry,
    Suggestion,
    SuggestionChange,
    SuggestionStatus,
)
from scheduler.models import Delivery, DeliveryStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
TRICKY_REPLY = '\t理由：<停车场> & "钱"\r\n不够\x01'  # a tab first, markup, CR LF, a control
FORMULAS = ('=HYPERLINK("http://x","点我")', "+86 138 0000 0000 请回电", "-1",
            "@SUM(A1) 垃圾没人收")
S = SuggestionStatus


def local(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    """A Shanghai wall-clock time, stored as aware UTC like the bot stores it."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Seeded:
    """The seeded database and the ids of its two groups and its night talk."""

    engine: Engine
    fengshu: int
    yangliu: int
    talk: int


# number, group, when, category, status, text; the steps each status implies are added below.
ROWS = [
    (1, "f", local(3, 5, 20, 10), "roads", S.DONE, "村口的路灯坏了三个月了"),
    (2, "f", local(3, 5, 20, 20), "roads", S.DONE, FORMULAS[0]),
    (3, "f", local(3, 5, 20, 30), "water", S.DONE, "修一下三组的水渠"),
    (4, "f", local(3, 10, 9), "water", S.DONE, FORMULAS[1]),
    (5, "f", local(4, 2, 10), "other", S.DONE, ""),  # a voice suggestion
    (6, "y", local(4, 15), "roads", S.IN_PROGRESS, FORMULAS[2]),
    (7, "y", local(5, 1), "waste", S.ADOPTED, FORMULAS[3]),
    (8, "y", local(5, 2), "roads", S.DECLINED, "学校门口修个停车场"),
    (9, "y", local(6, 1), "safety", S.DECLINED, "每家装个摄像头"),
    (10, "f", local(7, 1), "roads", S.NEW, "后山的路太窄了"),
    (11, "y", local(8, 8), "water", S.NEW, "夏天老是停水"),
    (12, "f", local(1, 1, 0, 30), "roads", S.NEW, "新年第一条：桥要加护栏"),  # first hour of 2026
    (13, "f", local(12, 31, 23, 30, year=2025), "roads", S.DONE, "去年的建议"),
    (14, "y", local(1, 1, 8, year=2027), "water", S.NEW, "明年的建议"),
    (15, "f", local(3, 5, 20, 40), "roads", S.NEW, "路灯坏了"),  # merged into no. 1
]
STEPS = {S.NEW: (), S.ADOPTED: (S.ADOPTED,), S.IN_PROGRESS: (S.ADOPTED, S.IN_PROGRESS),
         S.DONE: (S.ADOPTED, S.DONE), S.DECLINED: (S.DECLINED,)}


def seed(url: str) -> Seeded:
    """12 suggestions in 2026 (7 adopted, 5 done, 2 declined, 3 new) and lessons heard."""
    engine = open_database(url)
    with session(engine) as db:
        fengshu = Group(platform="web", chat_id="fengshu", name="枫树屋场群", hamlet="枫树屋场")
        yangliu = Group(platform="web", chat_id="yangliu", name="杨柳屋场群", hamlet="杨柳屋场")
        db.add_all([fengshu, yangliu])
        db.flush()
        assert fengshu.id and yangliu.id
        talk = NightTalk(group_id=fengshu.id, topic="修路的事", place="晒谷坪",
                         starts_at=local(3, 5, 20), ends_at=local(3, 5, 22))
        db.add(talk)
        db.flush()
        assert talk.id
        for number, g, when, category, status, text in ROWS:
            group = fengshu if g == "f" else yangliu
            assert group.id
            db.add(Suggestion(
                id=number, group_id=group.id, hamlet=group.hamlet, platform="web",
                chat_id=group.chat_id, message_id=f"m{number}", author_id=f"u{number}",
                author_name="李四" if number == 3 else f"村民{number}",
                raised_by_id="h1" if number == 3 else None,
                raised_by_name="刘话事" if number == 3 else None,
                night_talk_id=talk.id if number in (1, 2, 3, 15) else None,
                text=text, voice_path="/srv/data/audio/voice-5.ogg" if number == 5 else None,
                category=category, status=status, merged_into=1 if number == 15 else None,
                handler_name="李书记" if status != S.NEW else None,
                reply=TRICKY_REPLY if number == 8 else
                {S.DONE: "已经办好了", S.DECLINED: "村里暂时没有这笔钱"}.get(status),
                created_at=when, updated_at=when))
            db.flush()
            before = S.NEW
            for day, step in enumerate(STEPS[status], 1):
                db.add(SuggestionChange(suggestion_id=number, from_status=before, to_status=step,
                                        actor_id="sec", actor_name="李书记",
                                        created_at=when + timedelta(days=day)))
                before = step
        lessons = [(fengshu.id, local(2, 1, 20), DeliveryStatus.SENT, 3),
                   (fengshu.id, local(3, 1, 20), DeliveryStatus.SENT, 1),
                   (fengshu.id, local(3, 2, 20), DeliveryStatus.FAILED, 0),
                   (yangliu.id, local(2, 1, 20), DeliveryStatus.SENT, 2),
                   (yangliu.id, local(6, 1, 20, year=2025), DeliveryStatus.SENT, 4)]
        for n, (group_id, when, state, listeners) in enumerate(lessons):
            delivery = Delivery(lesson_slug="telecom-fraud", group_id=group_id, occurrence=when,
                                status=state, sent_at=when if state == DeliveryStatus.SENT
                                else None)
            db.add(delivery)
            db.flush()
            for person in range(listeners):
                for reason in ("listen", "suggest"):  # only listening counts as a listener
                    db.add(PointsEntry(group_id=group_id, user_id=f"p{n}-{person}",
                                       user_name="听众", reason=reason, ref=str(delivery.id),
                                       points=1, created_at=when))
    return Seeded(engine, fengshu.id, yangliu.id, talk.id)
