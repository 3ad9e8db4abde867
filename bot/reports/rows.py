"""The detail of a report: one row per suggestion, streamed from the database in batches."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.messages import strip_controls
from bot.core.models import NightTalk, Photo, Suggestion, SuggestionChange, SuggestionStatus
from bot.domain.figures import (
    DEFAULT_TIMEZONE,
    ReportFilter,
    category_label,
    group_zones,
    hamlet_label,
    suggestion_conditions,
    talk_label,
)

if TYPE_CHECKING:  # openpyxl is loaded only by the exports that write workbooks
    from openpyxl import Workbook
from bot.domain.handling import OPEN
from bot.domain.outcomes import DAY_SECONDS
from bot.domain.suggestions import STATUS_LABELS
from scheduler.dbtypes import utcnow

BATCH = 2000
Progress = Callable[[int, int], None]
# A text starting with one of these could be taken for a formula by a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Which change's time goes in which dated column, in column order.
CHANGE_COLUMNS = (SuggestionStatus.ADOPTED, SuggestionStatus.IN_PROGRESS,
                  SuggestionStatus.DONE, SuggestionStatus.DECLINED)


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One suggestion as the detail sheet shows it; times are naive local times."""

    number: int
    raised_at: datetime
    night_talk: str
    hamlet: str
    author: str
    raised_by: str
    text: str
    category: str
    status: str
    handler: str
    reply: str
    adopted_at: datetime | None
    in_progress_at: datetime | None
    done_at: datetime | None
    declined_at: datetime | None
    voice: str
    handler_role: str = ""
    due_at: datetime | None = None
    days: float | None = None  # raised to done, for a done one
    overdue: bool = False  # its deadline passed and it is neither done nor declined
    photos: tuple[str, ...] = ()  # each photo's address, as voice_link makes it
    thumbs: tuple[str, ...] = ()  # their thumbnails' file names in the media folder

    def values(self) -> tuple[int | str | float | datetime | None, ...]:
        """The cells in the order of texts.REPORT_DETAIL_HEADERS."""
        return (self.number, self.raised_at, self.night_talk, self.hamlet, self.author,
                self.raised_by, self.text, self.category, self.status, self.handler, self.reply,
                self.adopted_at, self.in_progress_at, self.done_at, self.declined_at,
                self.due_at, None if self.days is None else round(self.days, 1),
                texts.REPORT_OVERDUE_MARK if self.overdue else "", self.voice,
                "\n".join(self.photos))


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read `text` as a formula if typed in as is."""
    return text.startswith(FORMULA_STARTS)


def safe_text(text: str) -> str:
    """`text` without control characters: XML (so XLSX and DOCX) cannot hold most of them, and
    in a CSV they only hide or garble what a member wrote. Tabs and newlines stay."""
    return strip_controls(text)


def voice_link(voice_path: str | None, media_base: str = "") -> str:
    """Where the web chat serves a voice suggestion: /media/<file>, after `media_base`."""
    if not voice_path:
        return ""
    return f"{media_base.rstrip('/')}/media/{quote(Path(voice_path).name)}"


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A scratch path to write to: it becomes `path` on success and is removed on failure.

    So a half-written report never sits where a secretary would pick it up.
    """
    partial = path.with_name(path.name + ".part")
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def full_disk_as_oserror() -> Iterator[None]:
    """lxml reports a file the disk would not take as its own error: an OSError like any other."""
    from lxml.etree import SerialisationError

    try:
        yield
    except SerialisationError as exc:
        raise OSError(f"the report could not be written: {exc}") from exc


def save_workbook(workbook: Workbook, path: Path) -> None:
    """Save an openpyxl workbook as `path`, whole or not at all (see `replacing`); on a
    failure, see `abandon_workbook`.

    As `Workbook.save` does, but holding the archive: one that fails half-way is dropped
    without its directory, which the garbage collector would otherwise try to write later
    and fail at again, on a full disk, as an "Exception ignored" traceback."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    if workbook.write_only and not workbook.worksheets:
        workbook.create_sheet()
    workbook.properties.modified = utcnow().replace(tzinfo=None)  # as openpyxl stores it
    with replacing(path) as partial:
        archive = ZipFile(partial, "w", ZIP_DEFLATED, allowZip64=True)
        try:
            ExcelWriter(workbook, archive).save()
        except BaseException:
            written, archive.fp = archive.fp, None  # ZipFile.close does nothing without it
            if written is not None:
                with contextlib.suppress(OSError):
                    written.close()
            raise


def abandon_workbook(workbook: Workbook) -> None:
    """End the write-only sheets a failed export left open (their rows go to scratch files as
    they are added), so their writers do not fail again when garbage-collected.

    Closing a sheet would write its tail, which fails on the same full disk and leaves its
    XML stream open: the row and stream generators (openpyxl 3.1's private parts) are ended
    instead, whatever they raise on the way out."""
    for sheet in workbook.worksheets:
        if getattr(sheet, "closed", True):
            continue
        writer = getattr(sheet, "_writer", None)
        for stream in (getattr(sheet, "_rows", None), getattr(writer, "xf", None)):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()


def zones_for(engine: Engine) -> Mapping[int, ZoneInfo]:
    """Each group's time zone (for callers that hold an engine, not a session)."""
    with Session(engine) as db:
        return group_zones(db)


def count_rows(engine: Engine, f: ReportFilter) -> int:
    """How many detail rows a report has."""
    with Session(engine) as db:
        zones = group_zones(db)
        return db.exec(select(func.count(col(Suggestion.id)))
                       .where(*suggestion_conditions(f, zones))).one()


def _changes(conn: Connection, ids: list[int]) -> dict[int, dict[SuggestionStatus, datetime]]:
    """The latest time each suggestion moved into each status."""
    rows = conn.execute(sa_select(col(SuggestionChange.suggestion_id),
                                  col(SuggestionChange.to_status),
                                  col(SuggestionChange.created_at))
                        .where(col(SuggestionChange.suggestion_id).in_(ids),
                               # a merge is recorded as a step that keeps the status
                               col(SuggestionChange.from_status)
                               != col(SuggestionChange.to_status))
                        .order_by(col(SuggestionChange.id)))
    found: dict[int, dict[SuggestionStatus, datetime]] = {}
    for sid, status, at in rows:
        found.setdefault(sid, {})[status] = at
    return found


def _photos(conn: Connection, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The photos (file, thumbnail) of those suggestions that have any, oldest first: one
    indexed query a batch, and nothing read for the many suggestions without."""
    rows = conn.execute(sa_select(col(Photo.suggestion_id), col(Photo.path),
                                  col(Photo.thumb_path))
                        .where(col(Photo.suggestion_id).in_(ids))
                        .order_by(col(Photo.id)))
    found: dict[int, list[tuple[str, str]]] = {}
    for sid, path, thumb in rows:
        if sid is not None:
            found.setdefault(sid, []).append((path, thumb))
    return found


def _talks(conn: Connection, ids: set[int], zones: Mapping[int, ZoneInfo]) -> dict[int, str]:
    rows = conn.execute(sa_select(col(NightTalk.id), col(NightTalk.topic), col(NightTalk.place),
                                  col(NightTalk.starts_at), col(NightTalk.group_id))
                        .where(col(NightTalk.id).in_(ids)))
    return {tid: talk_label(topic, place, starts, gid, zones)
            for tid, topic, place, starts, gid in rows if tid is not None}


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


_COLUMNS = (Suggestion.id, Suggestion.group_id, Suggestion.created_at, Suggestion.night_talk_id,
            Suggestion.hamlet, Suggestion.author_name, Suggestion.raised_by_name, Suggestion.text,
            Suggestion.category, Suggestion.status, Suggestion.handler_name, Suggestion.reply,
            Suggestion.voice_path, Suggestion.handler_role, Suggestion.due_at,
            Suggestion.done_at, Suggestion.machine_text)


def detail_rows(engine: Engine, f: ReportFilter, media_base: str = "",
                progress: Progress | None = None) -> Iterator[DetailRow]:
    """Every suggestion `f` covers, by number, read BATCH rows at a time."""
    fallback = ZoneInfo(DEFAULT_TIMEZONE)
    now = f.as_of or utcnow()
    zones = zones_for(engine)
    total = count_rows(engine, f) if progress is not None else 0
    talks: dict[int, str] = {}
    query = (sa_select(*(col(c) for c in _COLUMNS))
             .where(*suggestion_conditions(f, zones))
             .order_by(col(Suggestion.id)))
    done = 0
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=BATCH).execute(query)
        for partition in result.partitions():
            batch: list[Any] = list(partition)
            changes = _changes(conn, [row[0] for row in batch])
            pictures = _photos(conn, [row[0] for row in batch])
            missing = {row[3] for row in batch if row[3] is not None} - talks.keys()
            if missing:
                talks.update(_talks(conn, missing, zones))
            for (number, group_id, created, talk_id, hamlet, author, raised_by, text, category,
                 status, handler, reply, voice, role, due, finished, machine) in batch:
                if machine:  # every report marks words no person has checked yet
                    text += texts.TRANSCRIPT_MARK
                zone = zones.get(group_id, fallback)
                moved = changes.get(number, {})
                at = [_local(moved[s], zone) if s in moved else None for s in CHANGE_COLUMNS]
                shots = pictures.get(number, ())
                days = None
                if status == SuggestionStatus.DONE and finished is not None:
                    # the same measure as the figures' median: done_at, not the last change
                    days = max((finished - created).total_seconds(), 0) / DAY_SECONDS
                    at[2] = _local(finished, zone)
                yield DetailRow(
                    number, _local(created, zone),
                    talks.get(talk_id, "") if talk_id is not None else "",
                    hamlet_label(hamlet), author, raised_by or "", text,
                    category_label(category), STATUS_LABELS.get(status, str(status)),
                    handler or "", reply or "", at[0], at[1], at[2], at[3],
                    voice_link(voice, media_base), role or "",
                    _local(due, zone) if due is not None else None, days,
                    due is not None and due < now and status in OPEN,
                    tuple(voice_link(path, media_base) for path, _thumb in shots),
                    tuple(thumb for _path, thumb in shots))
            done += len(batch)
            if progress is not None:
                progress(done, total)


def with_raised_by(row: DetailRow) -> str:
    """The author, and who raised it for them if someone did (代提)."""
    if not row.raised_by:
        return row.author
    return texts.REPORT_RAISED_BY.format(author=row.author, by=row.raised_by)
