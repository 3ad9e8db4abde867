"""Notices the bot posts on its own: a suggestion's new status, the monthly and yearly points
rankings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import texts
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, Suggestion
from bot.domain.rankings import Period, Place, bottom, household_ranking, person_ranking, top
from bot.outbox import Outbox
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import AlwaysDue, ensure_timers

log = logging.getLogger(__name__)

LEADERBOARD_KIND = "points.leaderboard"
LEADERBOARD_SIZE = 10
LEADERBOARD_AT = time(20, 0)  # local time, on the last day of the month
QUOTE_LIMIT = 20
PROXY_PREFIX = "proxy:"  # authors raised on their behalf who are not in the chat


def status_notice_text(suggestion: Suggestion) -> str:
    """「第 12 号建议（张大爷：修村口路灯）已采纳。回复：…」"""
    quote = " ".join(suggestion.text.split()) or texts.CMD_VOICE_SUGGESTION
    if len(quote) > QUOTE_LIMIT:
        quote = quote[: QUOTE_LIMIT - 1] + "…"
    text = texts.CMD_STATUS_NOTICE.format(number=suggestion.id, author=suggestion.author_name,
                                          quote=quote,
                                          status=texts.CMD_STATUS_SAID[suggestion.status])
    if suggestion.reply:
        label = texts.CMD_REPLY_LABELS.get(suggestion.status, texts.CMD_REPLY_LABEL)
        text += texts.CMD_STATUS_NOTICE_REPLY.format(label=label, reply=suggestion.reply)
    return text


async def notify_status_change(outbox: Outbox, group: Group, suggestion: Suggestion) -> str:
    """Tell the group what became of a suggestion, answering and mentioning its author."""
    mention = None if suggestion.author_id.startswith(PROXY_PREFIX) else suggestion.author_id
    same_chat = (suggestion.platform, suggestion.chat_id) == (group.platform, group.chat_id)
    message = OutgoingText(status_notice_text(suggestion),
                           reply_to=suggestion.message_id if same_chat else None,
                           mention=mention)
    [message_id] = await outbox.send(group.platform, group.chat_id, [message])
    return message_id


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (month_start(day) + timedelta(days=32)).replace(day=1)


def leaderboard_ref(group_id: int, month: date) -> str:
    """The timer ref for one group's leaderboard of one month: `group:3:2026-12`."""
    return f"group:{group_id}:{month:%Y-%m}"


def parse_leaderboard_ref(ref: str) -> tuple[int, date]:
    """`group:3:2026-12` -> (3, 2026-12-01); ValueError if it is not such a ref."""
    kind, group_id, month = ref.split(":")
    if kind != "group":
        raise ValueError(ref)
    year, number = month.split("-")
    return int(group_id), date(int(year), int(number), 1)


def leaderboard_due(month: date, timezone: str) -> datetime:
    """20:00 local time on the last day of `month`, in UTC."""
    last_day = next_month(month) - timedelta(days=1)
    local = datetime.combine(last_day, LEADERBOARD_AT, tzinfo=ZoneInfo(timezone))
    return local.astimezone(ZoneInfo("UTC"))


def ensure_leaderboard_timer(db: Session, group: Group, month: date) -> bool:
    """The group's leaderboard timer for `month`, added unless one exists (in any state).
    Whether it was added."""
    assert group.id is not None
    return ensure_timers(db, LEADERBOARD_KIND, {
        leaderboard_ref(group.id, month): leaderboard_due(month, group.timezone)}) > 0


def ensure_leaderboard_timers(db: Session, now: datetime | None = None) -> int:
    """At start: every group has its current month's leaderboard timer; return how many added."""
    now = now or utcnow()
    wanted = {}
    for group in db.exec(select(Group)).all():
        assert group.id is not None
        month = month_start(now.astimezone(ZoneInfo(group.timezone)).date())
        if leaderboard_due(month, group.timezone) <= now:
            month = next_month(month)
        wanted[leaderboard_ref(group.id, month)] = leaderboard_due(month, group.timezone)
    return ensure_timers(db, LEADERBOARD_KIND, wanted)


def _lines(places: list[Place]) -> list[str]:
    return [texts.CMD_LEADERBOARD_LINE.format(rank=p.rank, name=p.name, points=p.points)
            for p in places]


def ranking_lines(heading: str, people: list[Place], households: list[Place], *, size: int,
                  last: int = 0) -> list[str]:
    """One ranking: the heading, the top people and households with points, and the last ones
    too when the village publishes them (`last` > 0)."""
    best = [p for p in top(people, size) if p.points > 0]  # a deduction is no place of honour
    best_homes = [h for h in top(households, size) if h.points > 0]
    lines = [heading, *_lines(best)]
    if best_homes:
        lines += [texts.RANK_HOUSEHOLDS.format(n=len(best_homes)), *_lines(best_homes)]
    for label, places, shown in ((texts.RANK_PEOPLE_BOTTOM, people, len(best)),
                                 (texts.RANK_HOUSEHOLDS_BOTTOM, households, len(best_homes))):
        tail = bottom(places, last, shown)
        if tail:
            lines += [label.format(n=len(tail)), *_lines(tail)]
    return lines


def leaderboard_text(db: Session, group: Group, month: date, *, size: int = LEADERBOARD_SIZE,
                     last: int = 0) -> str:
    """The post at a month's end: the month's ranking, and on 31 December the year's too."""
    monthly = Period(month.year, month.month)
    people = person_ranking(db, group, monthly)
    if not any(p.points > 0 for p in people):  # only deductions: nobody to thank
        lines = [texts.CMD_LEADERBOARD_EMPTY.format(month=month.month)]
    else:
        lines = ranking_lines(texts.CMD_LEADERBOARD_HEADING.format(month=month.month), people,
                              household_ranking(db, group, monthly), size=size, last=last)
    if month.month == 12:
        yearly = Period(month.year)
        people = person_ranking(db, group, yearly)
        if any(p.points > 0 for p in people):
            lines += ["", *ranking_lines(texts.RANK_YEAR_HEADING.format(year=month.year),
                                         people, household_ranking(db, group, yearly),
                                         size=size, last=last)]
    if len(lines) > 1:
        lines.append(texts.CMD_LEADERBOARD_FOOTER)
    return "\n".join(lines)


class LeaderboardPoster:
    """Posts each group's monthly points ranking (and the year's on 31 December) when its timer
    fires: one message per group, the village's list in each of its groups."""

    def __init__(self, engine: Engine, outbox: Outbox, *, size: int = LEADERBOARD_SIZE,
                 last: int = 0) -> None:
        self.engine = engine
        self.outbox = outbox
        self.size = size
        self.last = last

    def handlers(self) -> dict[str, Callable[[Timer], Awaitable[None]]]:
        """Timer kinds this poster handles, for `Scheduler(timer_handlers=...)`."""
        return {LEADERBOARD_KIND: AlwaysDue(self.post)}  # last month's board, late, still counts

    async def post(self, timer: Timer) -> None:
        """Post the ranking of the month named by the timer and arm next month's timer."""
        group_id, month = parse_leaderboard_ref(timer.ref)

        def board(db: Session) -> tuple[Group | None, str]:
            group = db.get(Group, group_id)
            if group is None:
                return None, ""
            text = leaderboard_text(db, group, month, size=self.size, last=self.last)
            ensure_leaderboard_timer(db, group, next_month(month))
            return group, text

        group, text = await in_session(self.engine, board)
        if group is None:
            log.warning("leaderboard for group %s skipped: the group is gone", group_id)
            return
        await self.outbox.send(group.platform, group.chat_id, [OutgoingText(text)])
        log.info("ranking of %s posted to group %s", month, group_id)
