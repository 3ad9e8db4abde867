"""Points given from a spreadsheet: every row checked first, then all applied in one
transaction, or none when any row is wrong.

Each row becomes a PointsEntry of the village's list: the item's points as they are now, the
uploader as the giver, the row's reason as its note.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Member, PointsEntry, PointsItem, Role
from bot.core.roles import allows
from bot.domain.village_members import ImportRefused, match_people, village_group_ids

log = logging.getLogger(__name__)

NOTE_MAX = 200
OLDEST_DAYS = 366  # a row may be dated back a year at most, so a typo like 2016 is caught
ITEM_REASON = "item"


@dataclass(frozen=True)
class AwardRow:
    """One row of the award sheet as typed; `day` is the text when it could not be read."""

    row: int
    who: str
    item: str
    note: str
    day: date | str | None


@dataclass(frozen=True)
class PlannedAward:
    """A checked row, ready to store."""

    row: int
    person: Member
    item: PointsItem
    note: str
    day: date | None


@dataclass(frozen=True)
class Giver:
    """Who gives the sheet's points: the console account and the role it holds."""

    id: str
    name: str
    role: Role


def village_items(db: Session, village_id: int) -> list[PointsItem]:
    """The village's points items, active ones first, each kind by name."""
    return list(db.exec(select(PointsItem).where(PointsItem.village_id == village_id)
                        .order_by(col(PointsItem.active).desc(), col(PointsItem.name))))


def _counts(db: Session, groups: list[int], pairs: set[tuple[str, int]], since: datetime,
            zone: ZoneInfo) -> Counter[tuple[str, int, date]]:
    """How many non-revoked awards each (person, item) already has per local day."""
    counts: Counter[tuple[str, int, date]] = Counter()
    if not pairs:
        return counts
    users = {user for user, _ in pairs}
    items = {item for _, item in pairs}
    for user_id, item_id, created in db.exec(
            select(PointsEntry.user_id, PointsEntry.item_id, PointsEntry.created_at)
            .where(col(PointsEntry.group_id).in_(groups), col(PointsEntry.user_id).in_(users),
                   col(PointsEntry.item_id).in_(items), col(PointsEntry.revoked_at).is_(None),
                   col(PointsEntry.created_at) >= since)):
        if item_id is not None and (user_id, item_id) in pairs:
            counts[(user_id, item_id, created.astimezone(zone).date())] += 1
    return counts


def check_awards(db: Session, village_id: int, rows: Sequence[AwardRow], giver: Giver,
                 now: datetime, zone: ZoneInfo) -> tuple[list[PlannedAward], list[str]]:
    """The sheet's rows checked: what to store, and every problem naming its row."""
    problems: list[str] = []
    planned: list[PlannedAward] = []
    today = now.astimezone(zone).date()
    items = {item.name: item for item in village_items(db, village_id)}

    def say(row: int, problem: str) -> None:
        problems.append(texts.SHEET_ROW_PROBLEM.format(row=row, problem=problem))

    if not rows:
        return [], [texts.SHEET_NO_ROWS]
    for row in rows:
        before = len(problems)
        found = match_people(db, village_id, row.who) if row.who else []
        if not row.who:
            say(row.row, texts.BULK_NO_PERSON)
        elif not found:
            say(row.row, texts.SHEET_NO_SUCH_PERSON.format(who=row.who))
        elif len(found) > 1:
            say(row.row, texts.SHEET_PERSON_AMBIGUOUS.format(
                who=row.who, numbers="、".join(m.user_id for m in found)))
        item = items.get(" ".join(row.item.split()))
        if not row.item:
            say(row.row, texts.BULK_NO_ITEM)
        elif item is None:
            say(row.row, texts.BULK_NO_SUCH_ITEM.format(item=row.item))
        elif not item.active:
            say(row.row, texts.BULK_ITEM_STOPPED.format(item=item.name))
        elif not allows(giver.role, Role(item.award_role)):
            say(row.row, texts.BULK_ITEM_ROLE.format(
                item=item.name, role=texts.ADMIN_ROLE_LABELS[Role(item.award_role).value]))
        elif item.needs_photo:
            say(row.row, texts.BULK_ITEM_PHOTO.format(item=item.name))
        if len(row.note) > NOTE_MAX:
            say(row.row, texts.BULK_NOTE_TOO_LONG.format(n=NOTE_MAX))
        day = row.day
        if isinstance(day, str):
            say(row.row, texts.BULK_BAD_DATE.format(text=day))
        elif day is not None and day > today:
            say(row.row, texts.BULK_FUTURE_DATE.format(day=day.isoformat()))
        elif day is not None and day < today - timedelta(days=OLDEST_DAYS):
            say(row.row, texts.BULK_OLD_DATE.format(day=day.isoformat()))
        if len(problems) == before and item is not None and len(found) == 1:
            planned.append(PlannedAward(row.row, found[0], item, row.note,
                                        day if isinstance(day, date) else None))
    problems.extend(_check_caps(db, village_id, planned, today, zone))
    return planned, problems


def _check_caps(db: Session, village_id: int, planned: list[PlannedAward], today: date,
                zone: ZoneInfo) -> list[str]:
    """Rows that would give someone an item more often than its daily or yearly cap."""
    capped = [p for p in planned if p.item.daily_cap is not None or p.item.yearly_cap is not None]
    if not capped:
        return []
    oldest = min((p.day or today) for p in capped).replace(month=1, day=1)
    since = datetime.combine(oldest, time(), zone)
    counts = _counts(db, village_group_ids(db, village_id),
                     {(p.person.user_id, p.item.id or 0) for p in capped}, since, zone)
    problems = []
    for p in capped:
        day, key = p.day or today, (p.person.user_id, p.item.id or 0)
        counts[(*key, day)] += 1
        on_day = counts[(*key, day)]
        in_year = sum(n for (u, i, d), n in counts.items()
                      if (u, i) == key and d.year == day.year)
        cap = p.item.daily_cap
        if cap is not None and on_day > cap:
            problems.append(texts.SHEET_ROW_PROBLEM.format(row=p.row, problem=(
                texts.BULK_DAILY_CAP.format(item=p.item.name, n=cap, who=p.person.display_name))))
        elif p.item.yearly_cap is not None and in_year > p.item.yearly_cap:
            problems.append(texts.SHEET_ROW_PROBLEM.format(row=p.row, problem=(
                texts.BULK_YEARLY_CAP.format(item=p.item.name, n=p.item.yearly_cap,
                                             who=p.person.display_name))))
    return problems


def apply_awards(db: Session, village_id: int, rows: Sequence[AwardRow], giver: Giver,
                 now: datetime, zone: ZoneInfo) -> list[PointsEntry]:
    """Store every row of the sheet, or (ImportRefused listing each problem) none of them."""
    planned, problems = check_awards(db, village_id, rows, giver, now, zone)
    if problems:
        raise ImportRefused(problems)
    batch = secrets.token_hex(4)
    today = now.astimezone(zone).date()
    entries = []
    for p in planned:
        # An earlier day is kept at its noon, so the award falls on that day in every list.
        when = now if p.day is None or p.day == today else datetime.combine(
            p.day, time(12), zone)
        entry = PointsEntry(group_id=p.person.group_id, user_id=p.person.user_id,
                            user_name=p.person.display_name, reason=ITEM_REASON,
                            ref=f"sheet:{batch}:{p.row}", points=p.item.points,
                            created_at=when, item_id=p.item.id, note=p.note,
                            by_id=giver.id, by_name=giver.name)
        db.add(entry)
        entries.append(entry)
    db.flush()
    log.info("village %s: %s awards from a sheet by %s", village_id, len(entries), giver.id)
    return entries
