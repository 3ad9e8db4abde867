"""The open web chat's limits that need the bot's records: daily caps and names that mislead.

Anyone with the link can join the web chat under any name, so what a web member earns in a day
is capped here, counted from the database (a reconnect or a restart resets nothing), and names
that pass for the bot or for a role holder of the room are refused. Other platforms vouch for
their accounts, so these rules are applied to the web chat only.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import ChatMessage, Member, PointsEntry, Role, Suggestion
from bot.domain.points import LISTEN, SUGGEST

WEB = "web"
# Words that make a name pass for the bot or for the people who run the room.
RESERVED_WORDS = (texts.BOT_NAME, "夜话", "夜話", "小助手", "助手", "管理员", "管理員", "书记",
                  "書記", "机器人", "機器人", "系统", "系統", "客服", "官方", "话事佬", "話事佬")
EARNED_BY_MEMBERS = (SUGGEST, LISTEN)  # adoption points are the secretary's doing: not capped


@dataclass
class WebChatCaps:
    """What one web member may earn per day (0: no cap), and who was already told today."""

    suggestions_per_day: int = 10
    points_per_day: int = 20
    _told: set[tuple[int, str, str, date]] = field(default_factory=set, repr=False)

    def tell_once(self, group_id: int, user_id: str, what: str, day: date) -> bool:
        """True the first time today a member hits the cap `what` (in this process)."""
        key = (group_id, user_id, what, day)
        if key in self._told:
            return False
        self._told = {k for k in self._told if k[3] >= day}  # yesterday's are done with
        self._told.add(key)
        return True


@dataclass(frozen=True)
class Allowance:
    """What a web member may still earn today, and the day it is where the group lives."""

    suggestions: int | None  # None: no cap
    points: int | None
    day: date


def zone_of(timezone: str) -> ZoneInfo:
    """The group's time zone, or Asia/Shanghai if it is not one."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def day_start(now: datetime, timezone: str) -> tuple[date, datetime]:
    """The local date at `now` and the instant it began, for counting 'today'."""
    zone = zone_of(timezone)
    today = now.astimezone(zone).date()
    return today, datetime.combine(today, time(0), tzinfo=zone)


def allowance(db: Session, group_id: int, timezone: str, user_id: str, now: datetime,
              caps: WebChatCaps) -> Allowance:
    """How many suggestions and points a web member may still earn today."""
    today, start = day_start(now, timezone)
    suggestions = points = None
    if caps.suggestions_per_day:
        raised = db.exec(select(func.count()).select_from(Suggestion).where(
            Suggestion.group_id == group_id, Suggestion.author_id == user_id,
            col(Suggestion.raised_by_id).is_(None), col(Suggestion.created_at) >= start)).one()
        suggestions = max(0, caps.suggestions_per_day - int(raised))
    if caps.points_per_day:
        earned = db.exec(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.group_id == group_id, PointsEntry.user_id == user_id,
            col(PointsEntry.reason).in_(EARNED_BY_MEMBERS),
            col(PointsEntry.created_at) >= start)).one()
        points = max(0, caps.points_per_day - int(earned))
    return Allowance(suggestions, points, today)


def voices_today(db: Session, group_id: int, timezone: str, user_id: str, now: datetime
                 ) -> int:
    """How many voice messages a web member has sent to the room today."""
    _today, start = day_start(now, timezone)
    return int(db.exec(select(func.count()).select_from(ChatMessage).where(
        ChatMessage.group_id == group_id, ChatMessage.sender_id == user_id,
        col(ChatMessage.from_bot).is_(False), col(ChatMessage.audio_url).is_not(None),
        col(ChatMessage.created_at) >= start)).one())


def plain(name: str) -> str:
    """A name as people read it: full-width folded, case ignored, only its letters kept."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch).startswith("L"))


def name_refusal(db: Session, group_id: int, user_id: str, name: str) -> str | None:
    """Why a web member may not use `name` in the room (Chinese), or None if they may.

    Role holders keep their own names (a secretary may be 王书记); nobody else may take a name
    with the bot's or a role's words in it, or the name of someone who holds a role.
    """
    holders = db.exec(select(Member).where(Member.group_id == group_id,
                                           Member.role != Role.MEMBER)).all()
    if any(holder.user_id == user_id for holder in holders):
        return None
    wanted = plain(name)
    for holder in holders:
        if wanted and wanted == plain(holder.display_name):
            return texts.WEB_NAME_LIKE_HOLDER.format(
                role=texts.CMD_ROLE_LABELS[holder.role], name=holder.display_name)
    if any(plain(word) in wanted for word in RESERVED_WORDS):
        return texts.WEB_NAME_LIKE_BOT.format(name=name)
    return None

