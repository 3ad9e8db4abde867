"""Who came to a night talk: members who checked in or raised a suggestion during it, people
the facilitator named, and a count of the others who came in person.

Each person is counted once per talk (`Attendance.person` is unique within a talk): a member by
their platform user id, someone named by the facilitator by their name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, or_
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Attendance, AttendanceHow, Member, NightTalk
from bot.domain.notices import PROXY_PREFIX
from scheduler.dbtypes import ignoring_insert, insert_rows, utcnow

log = logging.getLogger(__name__)

ATTENDANCE: Table = Attendance.__table__  # type: ignore[attr-defined]
_KEY = ("night_talk_id", "person")
WALK_INS_MAX = 9999
NAME_MAX = 20
NAMES_MAX = 50
# 「23人」「23 人」「23位」「23」: a count of people who came in person.
_COUNT = re.compile(r"\s*(\d{1,6})\s*(?:人|位|个人|个)?\s*")
_SEPARATORS = re.compile(r"[\s,，、;；]+")


class AttendanceError(ValueError):
    """A refused attendance entry; the message is Chinese and shown as is."""


def member_person(user_id: str) -> str:
    """The attendance key of a member (or of a name a suggestion was raised for)."""
    if user_id.startswith(PROXY_PREFIX):
        return named_person(user_id[len(PROXY_PREFIX):])
    return f"u:{user_id}"


def named_person(name: str) -> str:
    """The attendance key of someone the facilitator named."""
    return f"n:{name}"


def _row(talk_id: int, person: str, name: str, how: AttendanceHow, now: datetime
         ) -> dict[str, Any]:
    return {"night_talk_id": talk_id, "person": person, "name": name, "how": how,
            "created_at": now}


def note_present(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Count people present (rows of `present_row`) in one statement; the ones counted
    already stay as they were. Runs in the caller's transaction."""
    insert_rows(connection, ATTENDANCE, _KEY, rows)


def present_row(talk_id: int, user_id: str, name: str, how: AttendanceHow,
                now: datetime) -> dict[str, Any]:
    """The attendance row of a member (or a proxy author) counted present at a talk."""
    return _row(talk_id, member_person(user_id), name, how, now)


def check_in(db: Session, talk_id: int, user_id: str, name: str,
             how: AttendanceHow = AttendanceHow.CHECK_IN, now: datetime | None = None) -> bool:
    """Count a member present at the talk; False if they were counted already."""
    statement = ignoring_insert(ATTENDANCE, _KEY, db.get_bind().dialect.name)
    new = db.execute(statement, present_row(talk_id, user_id, name, how, now or utcnow()))
    return new.scalar_one_or_none() is not None


def read_in_person(args: str) -> int | list[str]:
    """`/到场` arguments: a count (「23人」) or the names of who came (「张三 李四」)."""
    counted = _COUNT.fullmatch(args)
    if counted is not None:
        count = int(counted.group(1))
        if count > WALK_INS_MAX:
            raise AttendanceError(texts.ATTEND_TOO_MANY.format(n=WALK_INS_MAX))
        return count
    names = list(dict.fromkeys(name for name in _SEPARATORS.split(args.strip()) if name))
    if not names:
        raise AttendanceError(texts.CMD_USAGE_ATTEND)
    if len(names) > NAMES_MAX:
        raise AttendanceError(texts.ATTEND_TOO_MANY_NAMES.format(n=NAMES_MAX))
    for name in names:
        if len(name) > NAME_MAX or _COUNT.fullmatch(name):
            raise AttendanceError(texts.ATTEND_BAD_NAME.format(name=name[:NAME_MAX]))
    return names


def add_named(db: Session, talk: NightTalk, names: Sequence[str],
              now: datetime | None = None) -> list[str]:
    """Count the named people present; a name that is a member's counts as that member.
    Returns the names that were not counted before."""
    assert talk.id is not None, "a stored talk has an id"
    now = now or utcnow()
    members = {member.display_name: member.user_id for member in db.exec(
        select(Member).where(Member.group_id == talk.group_id,
                             col(Member.display_name).in_(list(names))))}
    added = []
    statement = ignoring_insert(ATTENDANCE, _KEY, db.get_bind().dialect.name)
    for name in names:
        person = member_person(members[name]) if name in members else named_person(name)
        new = db.execute(statement, _row(talk.id, person, name, AttendanceHow.IN_PERSON, now))
        if new.scalar_one_or_none() is not None:
            added.append(name)
    log.info("night talk %s: %d named present", talk.id, len(added))
    return added


def set_walk_ins(db: Session, talk: NightTalk, count: int) -> NightTalk:
    """How many came in person without being named: said again, the new count replaces it."""
    if not 0 <= count <= WALK_INS_MAX:
        raise AttendanceError(texts.ATTEND_TOO_MANY.format(n=WALK_INS_MAX))
    talk.walk_ins = count
    db.add(talk)
    db.flush()
    log.info("night talk %s: %d walk-ins", talk.id, count)
    return talk


@dataclass(frozen=True)
class Participants:
    """Who came to one talk: counted in the chat, and in person (named or counted)."""

    in_chat: int  # members who checked in, or raised a suggestion during the talk
    named: int  # named by the facilitator, or raised for by name (代提) without being a member
    walk_ins: int  # counted by the facilitator

    @property
    def in_person(self) -> int:
        return self.named + self.walk_ins

    @property
    def total(self) -> int:
        return self.in_chat + self.in_person


def participants(db: Session, talk: NightTalk) -> Participants:
    """The participants of a talk, each person once: members in the chat, and the people
    counted in person (named by the facilitator, or raised for by name without being members)."""
    counted_in_person = or_(col(Attendance.how) == AttendanceHow.IN_PERSON,
                            col(Attendance.person).startswith("n:"))
    named = func.sum(case((counted_in_person, 1), else_=0))
    total, in_person = db.exec(select(func.count(col(Attendance.id)), named)
                               .where(Attendance.night_talk_id == talk.id)).one()
    in_person = int(in_person or 0)
    return Participants(in_chat=int(total) - in_person, named=in_person, walk_ins=talk.walk_ins)


def attendees(db: Session, talk_id: int) -> list[Attendance]:
    """Everyone counted present at a talk, in the order they were counted."""
    return list(db.exec(select(Attendance).where(Attendance.night_talk_id == talk_id)
                        .order_by(col(Attendance.id))))


def participants_line(counted: Participants) -> str:
    """「到场 28 人（群里签到 5 人，现场 23 人）」; empty when nobody was counted."""
    if counted.total == 0:
        return ""
    return texts.ATTEND_LINE.format(total=counted.total, in_chat=counted.in_chat,
                                    in_person=counted.in_person)
