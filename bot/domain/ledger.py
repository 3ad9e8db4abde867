"""The public ledger (公开台账): every suggestion of a group, read-only, at an unguessable link,
and the monthly summary posted to the group.

The page shows what members may see of one another: the display name a member chose, what
they raised, its status, dates and reply, and who handles it only by role (网格员, 村委会) —
never a phone number or a handler's own name.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, Member, Suggestion, SuggestionStatus
from bot.domain.figures import TAKEN_UP
from bot.domain.handling import is_overdue
from bot.domain.notices import month_start, next_month
from bot.domain.points import month_span
from bot.domain.suggestions import STATUS_LABELS
from bot.domain.talk_texts import local_zone
from bot.outbox import Outbox
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import AlwaysDue, ensure_timers

log = logging.getLogger(__name__)

KEY_BYTES = 24  # 32 URL-safe characters: not to be guessed or walked through
PAGE_SIZE = 20
MONTHLY_KIND = "ledger.monthly"
MONTHLY_AT = time(20, 30)  # local, on the month's last day: after the points leaderboard


def ledger_path(key: str) -> str:
    """Where the web server serves a group's ledger."""
    return f"/ledger/{key}"


def ledger_url(base_url: str, key: str) -> str:
    """The link members open: the bot's public address and the ledger's path."""
    return base_url.rstrip("/") + ledger_path(key)


def ledger_key(db: Session, group: Group) -> str:
    """The group's ledger key, made on first use (the first of two at once wins)."""
    db.exec(update(Group).where(col(Group.id) == group.id, col(Group.ledger_key).is_(None))
            .values(ledger_key=secrets.token_urlsafe(KEY_BYTES)))
    key = db.exec(select(Group.ledger_key).where(col(Group.id) == group.id)).one()
    assert key is not None, "just set if it was not"
    return key


def rotate_ledger_key(db: Session, group: Group) -> str:
    """A new key for the group: the old link stops working at once."""
    key = secrets.token_urlsafe(KEY_BYTES)
    db.exec(update(Group).where(col(Group.id) == group.id).values(ledger_key=key))
    return key


def group_for_key(db: Session, key: str) -> Group | None:
    """The group whose ledger `key` opens, if any."""
    if not key or len(key) > 100:
        return None
    return db.exec(select(Group).where(col(Group.ledger_key) == key)).first()


@dataclass(frozen=True)
class LedgerEntry:
    """One suggestion as the public ledger shows it; dates are local."""

    number: int
    raised: date
    hamlet: str
    name: str
    text: str
    voice: bool
    status: str  # a SuggestionStatus value, for the page's colour
    status_label: str
    handler: str  # a role or a generic label: never a name or a phone number
    due: date | None
    done: date | None
    overdue: bool
    reply: str


@dataclass(frozen=True)
class LedgerPage:
    """One page of a group's ledger, newest first."""

    group: Group
    entries: list[LedgerEntry]
    page: int
    pages: int
    total: int


def _handler_label(row: Suggestion) -> str:
    if row.handler_role:
        return row.handler_role
    if row.handler_name or row.handler_user_id or row.handler_phone:
        return texts.LEDGER_HANDLER_GENERIC
    return ""


def ledger_page(db: Session, group: Group, page: int = 1, *, size: int = PAGE_SIZE,
                now: datetime | None = None) -> LedgerPage:
    """Page `page` of the group's suggestions (merged duplicates left out); out of range is
    taken as the nearest page there is."""
    now = now or utcnow()
    zone = local_zone(group.timezone)
    shown = [col(Suggestion.group_id) == group.id, col(Suggestion.merged_into).is_(None)]
    total = db.exec(select(func.count(col(Suggestion.id))).where(*shown)).one()
    pages = max(math.ceil(total / size), 1)
    page = min(max(page, 1), pages)
    rows = db.exec(
        select(Suggestion, Member.display_name)
        .join(Member, and_(col(Member.group_id) == col(Suggestion.group_id),
                           col(Member.user_id) == col(Suggestion.author_id)), isouter=True)
        .where(*shown)
        .order_by(col(Suggestion.created_at).desc(), col(Suggestion.id).desc())
        .offset((page - 1) * size).limit(size)).all()
    entries = []
    for row, chosen in rows:
        assert row.id is not None
        entries.append(LedgerEntry(
            number=row.id, raised=row.created_at.astimezone(zone).date(), hamlet=row.hamlet,
            name=chosen or row.author_name,
            text=row.text + (texts.TRANSCRIPT_MARK if row.machine_text else ""),
            voice=bool(row.voice_path),
            status=str(row.status), status_label=STATUS_LABELS[SuggestionStatus(row.status)],
            handler=_handler_label(row),
            due=row.due_at.astimezone(zone).date() if row.due_at else None,
            done=(row.done_at.astimezone(zone).date()
                  if row.done_at and row.status == SuggestionStatus.DONE else None),
            overdue=is_overdue(row, now),
            reply=row.reply or ""))
    return LedgerPage(group, entries, page, pages, total)


# --- the monthly summary -----------------------------------------------------------------------

@dataclass(frozen=True)
class MonthCounts:
    """Of the suggestions raised in a month: how many, taken up, done, still being handled."""

    raised: int
    adopted: int
    done: int

    @property
    def doing(self) -> int:
        """Taken up and not done yet."""
        return self.adopted - self.done


def month_counts(db: Session, group: Group, month: date) -> MonthCounts:
    """The counts for suggestions the group raised in `month` (its own time zone)."""
    start, end = month_span(local_zone(group.timezone), month)
    rows = db.exec(select(Suggestion.status, func.count(col(Suggestion.id)))
                   .where(col(Suggestion.group_id) == group.id,
                          col(Suggestion.merged_into).is_(None),
                          col(Suggestion.created_at) >= start, col(Suggestion.created_at) < end)
                   .group_by(col(Suggestion.status))).all()
    by_status = {SuggestionStatus(status): n for status, n in rows}
    return MonthCounts(raised=sum(by_status.values()),
                       adopted=sum(by_status.get(s, 0) for s in TAKEN_UP),
                       done=by_status.get(SuggestionStatus.DONE, 0))


def monthly_text(month: date, counts: MonthCounts, url: str) -> str:
    """「本月收到建议 N 条，已采纳 M 条，已办结 K 条，还在办的有 … 条。」and the link."""
    if not counts.raised:
        return texts.LEDGER_MONTHLY_NONE.format(month=month.month)
    return "\n".join([texts.LEDGER_MONTHLY.format(month=month.month, raised=counts.raised,
                                                  adopted=counts.adopted, done=counts.done,
                                                  doing=counts.doing),
                      texts.LEDGER_MONTHLY_LINK.format(url=url)])


def monthly_ref(group_id: int, month: date) -> str:
    """The timer ref for one group's summary of one month: `group:3:2026-12`."""
    return f"group:{group_id}:{month:%Y-%m}"


def parse_monthly_ref(ref: str) -> tuple[int, date]:
    """`group:3:2026-12` -> (3, 2026-12-01); ValueError if it is not such a ref."""
    kind, group_id, month = ref.split(":")
    if kind != "group":
        raise ValueError(ref)
    year, number = month.split("-")
    return int(group_id), date(int(year), int(number), 1)


def monthly_due(month: date, timezone: str) -> datetime:
    """MONTHLY_AT local time on the last day of `month`, in UTC."""
    last_day = next_month(month) - timedelta(days=1)
    local = datetime.combine(last_day, MONTHLY_AT, tzinfo=local_zone(timezone))
    return local.astimezone(ZoneInfo("UTC"))


def ensure_monthly_timer(db: Session, group: Group, month: date) -> bool:
    """The group's summary timer for `month`, added unless one exists (in any state): a
    summary sent is a fired timer, so a restart never sends it again. Whether it was added."""
    assert group.id is not None
    return ensure_timers(db, MONTHLY_KIND, {
        monthly_ref(group.id, month): monthly_due(month, group.timezone)}) > 0


def ensure_monthly_timers(db: Session, now: datetime | None = None) -> int:
    """At start: every group has its current month's summary timer; return how many added."""
    now = now or utcnow()
    wanted = {}
    for group in db.exec(select(Group)).all():
        assert group.id is not None
        month = month_start(now.astimezone(local_zone(group.timezone)).date())
        if monthly_due(month, group.timezone) <= now:
            month = next_month(month)
        wanted[monthly_ref(group.id, month)] = monthly_due(month, group.timezone)
    return ensure_timers(db, MONTHLY_KIND, wanted)


class MonthlyLedger:
    """Posts each group's monthly summary, with the ledger's link, when its timer fires."""

    def __init__(self, engine: Engine, outbox: Outbox, base_url: str) -> None:
        self.engine = engine
        self.outbox = outbox
        self.base_url = base_url

    def handlers(self) -> dict[str, Callable[[Timer], Awaitable[None]]]:
        """Timer kinds handled here, for `Scheduler(timer_handlers=...)`."""
        return {MONTHLY_KIND: AlwaysDue(self.post)}  # a late summary is still worth reading

    async def post(self, timer: Timer) -> None:
        """Post the month named by the timer and arm next month's."""
        group_id, month = parse_monthly_ref(timer.ref)

        def read(db: Session) -> tuple[Group | None, str]:
            group = db.get(Group, group_id)
            if group is None:
                return None, ""
            text = monthly_text(month, month_counts(db, group, month),
                                ledger_url(self.base_url, ledger_key(db, group)))
            ensure_monthly_timer(db, group, next_month(month))
            return group, text

        group, text = await in_session(self.engine, read)
        if group is None:
            log.warning("monthly summary for group %s skipped: the group is gone", group_id)
            return
        await self.outbox.send(group.platform, group.chat_id, [OutgoingText(text)])
        log.info("monthly summary of %s posted to group %s", month, group_id)
