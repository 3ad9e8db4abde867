"""The points workbook for a year or month: rankings by person and household, every entry
(revoked ones marked) and every redemption, one village after another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.db import session
from bot.core.models import Group, PointsEntry, Redemption, ShopGood, Village
from bot.domain.rankings import (
    Period,
    entry_label,
    household_ranking,
    households_of,
    item_names,
    person_names,
    person_ranking,
    village_groups,
)
from bot.reports.rows import (
    abandon_workbook,
    full_disk_as_oserror,
    is_formula_like,
    safe_text,
    save_workbook,
)

if TYPE_CHECKING:  # loaded on the first export only
    from openpyxl import Workbook

# openpyxl (with lxml, Pillow and numpy it finds) loads only when a sheet is made or read:
# the running bot does not hold it until a secretary asks for one.

BATCH = 2000  # entries read at a time, so a year of a big village never sits whole in memory


@dataclass(frozen=True)
class ExportCounts:
    """What went into the workbook, for the CLI's closing line."""

    people: int
    entries: int
    redemptions: int


def _text(value: str | None) -> str:
    text = safe_text(value or "")
    return "'" + text if is_formula_like(text) else text  # shown as typed, never run


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    # Excel has no time zones: the village's own clock, as people read it.
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def scopes(db: Session, group_id: int | None) -> list[tuple[str, Group]]:
    """The villages to export as (name, one of its groups): the group's own, or every one."""
    if group_id is not None:
        group = db.get(Group, group_id)
        return [] if group is None else [(_scope_name(db, group), group)]
    found: dict[object, tuple[str, Group]] = {}
    for group in db.exec(select(Group).order_by(col(Group.id))):
        key = ("village", group.village_id) if group.village_id else ("group", group.id)
        found.setdefault(key, (_scope_name(db, group), group))
    return list(found.values())


def _scope_name(db: Session, group: Group) -> str:
    village = db.get(Village, group.village_id) if group.village_id else None
    return village.name if village else group.name


def _entry_batches(db: Session, groups: list[Group], period: Period
                   ) -> Iterator[list[PointsEntry]]:
    start, end = period.span(ZoneInfo(groups[0].timezone))
    last_id = 0
    while True:
        batch = db.exec(select(PointsEntry)
                        .where(col(PointsEntry.group_id).in_([g.id for g in groups]),
                               col(PointsEntry.created_at) >= start,
                               col(PointsEntry.created_at) < end, col(PointsEntry.id) > last_id)
                        .order_by(col(PointsEntry.id)).limit(BATCH)).all()
        if not batch:
            return
        yield list(batch)
        last_id = batch[-1].id or last_id


def write_points_xlsx(engine: Engine, period: Period, path: Path,
                      group_id: int | None = None) -> ExportCounts:
    """Write the workbook to `path`; group_id limits it to that group's village. OSError when
    it cannot be written (a full disk), with nothing half written left at `path`."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    with full_disk_as_oserror():
        try:
            return _write(engine, period, path, group_id, book)
        except BaseException:
            abandon_workbook(book)
            raise


def _write(engine: Engine, period: Period, path: Path, group_id: int | None,
           book: Workbook) -> ExportCounts:
    people_sheet, household_sheet, entry_sheet, shop_sheet = (
        book.create_sheet(title) for title in texts.EXPORT_SHEETS)
    for sheet, headers in ((people_sheet, texts.EXPORT_PEOPLE_HEADERS),
                           (household_sheet, texts.EXPORT_HOUSEHOLD_HEADERS),
                           (entry_sheet, texts.EXPORT_ENTRY_HEADERS),
                           (shop_sheet, texts.EXPORT_REDEMPTION_HEADERS)):
        sheet.append(list(headers))
    people = entries = redemptions = 0
    with session(engine) as db:
        for name, group in scopes(db, group_id):
            village = _text(name)
            groups = village_groups(db, group)
            group_names = {g.id: _text(g.name) for g in groups}
            zone = ZoneInfo(group.timezone)
            homes = households_of(db, group)
            for place in person_ranking(db, group, period):
                home = homes.get(place.key)
                people_sheet.append([village, place.rank, _text(place.name),
                                     _text(home.name) if home else "", place.points])
                people += 1
            for place in household_ranking(db, group, period):
                household_sheet.append([village, place.rank, _text(place.name), place.points])
            for batch in _entry_batches(db, groups, period):
                items = item_names(db, {e.item_id for e in batch if e.item_id is not None})
                names = person_names(db, groups, list({e.user_id for e in batch}))
                for e in batch:
                    entry_sheet.append([
                        _local(e.created_at, zone), village, group_names.get(e.group_id, ""),
                        _text(names.get(e.user_id, e.user_name)), _text(entry_label(e, items)),
                        e.points, _text(e.note), _text(e.by_name) or texts.EXPORT_BOT,
                        texts.EXPORT_REVOKED if e.revoked_at else texts.EXPORT_VALID,
                        _local(e.revoked_at, zone), _text(e.revoked_by_name),
                        _text(e.revoke_reason)])
                entries += len(batch)
            start, end = period.span(zone)
            for r, good in db.exec(
                    select(Redemption, ShopGood)
                    .join(ShopGood, col(ShopGood.id) == col(Redemption.good_id))
                    .where(col(Redemption.group_id).in_(list(group_names)),
                           col(Redemption.created_at) >= start, col(Redemption.created_at) < end)
                    .order_by(col(Redemption.created_at), col(Redemption.id))):
                shop_sheet.append([_local(r.created_at, zone), village,
                                   group_names.get(r.group_id, ""), _text(r.user_name),
                                   _text(good.name), r.quantity, r.points, _text(r.by_name)])
                redemptions += 1
    save_workbook(book, path)  # a full disk leaves no half workbook, nor spoils an older one
    return ExportCounts(people, entries, redemptions)
