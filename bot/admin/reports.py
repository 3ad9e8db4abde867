"""Console pages for reports: the figures for a filter on screen, and the file to download."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import texts
from bot.admin.core import CONSOLE, Viewer, page, render
from bot.core.db import in_session
from bot.core.models import Group, Role
from bot.domain.board import groups, hamlets
from bot.domain.outcomes import days_text, outcomes
from bot.domain.suggestions import CATEGORIES
from bot.reports import (
    FORMATS,
    Figures,
    ReportError,
    ReportFilter,
    breakdown,
    check_day,
    describe_period,
    describe_scope,
    figures,
    percent,
    write_csv,
    write_docx,
    write_xlsx,
)

log = logging.getLogger(__name__)

BASE = "/admin/reports"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
}
ASCII_NAME = "report_{start}_{end}.{ext}"  # for browsers that ignore filename*
CHUNK = 256 * 1024


@dataclass(frozen=True)
class ReportRequest:
    """A report form as read: the filter (None if it cannot be made), the format, problems."""

    report: ReportFilter | None
    kind: str
    values: dict[str, str]
    problems: tuple[str, ...]


def _date(text: str, fallback: date, problems: list[str]) -> date:
    text = text.strip()
    if not text:
        return fallback
    try:
        return check_day(date.fromisoformat(text))
    except ReportError as exc:  # a real date, but out of the range reports cover
        problems.append(str(exc))
        return fallback
    except ValueError:
        problems.append(texts.ADMIN_SUG_BAD_DATE.format(text=text))
        return fallback


def parse_report_request(query: Mapping[str, str], today: date) -> ReportRequest:
    """The report filter from GET parameters; the period defaults to this month so far."""
    problems: list[str] = []
    start = _date(query.get("from", ""), today.replace(day=1), problems)
    end = _date(query.get("to", ""), today, problems)
    group_text = query.get("group", "").strip()
    group_id = int(group_text) if group_text.isdigit() and len(group_text) <= 9 else None
    hamlet = query.get("hamlet", "").strip() or None
    topic = query.get("topic", "").strip()
    kind = query.get("format", "xlsx").strip().lower()
    if kind not in FORMATS:
        problems.append(texts.ADMIN_REPORT_BAD_FORMAT.format(format=kind))
        kind = "xlsx"
    values = {"from": start.isoformat(), "to": end.isoformat(),
              "group": str(group_id) if group_id else "", "hamlet": hamlet or "",
              "topic": topic if topic in CATEGORIES else "", "format": kind}
    report: ReportFilter | None = None
    if start > end:
        problems.append(texts.ADMIN_SUG_BAD_PERIOD.format(start=start, end=end))
    else:
        try:
            report = ReportFilter(start, end, group_id=group_id, hamlet=hamlet,
                                  topic=topic if topic in CATEGORIES else None)
        except ReportError as exc:
            problems.append(str(exc))
    return ReportRequest(report, kind, values, tuple(problems))


def _today(request: web.Request) -> date:
    console = request.app[CONSOLE]
    return console.services.clock().astimezone(console.settings.zone).date()


def figure_cells(fig: Figures) -> list[str]:
    """A Figures as the cells of one table row, in the order of the report headers."""
    return [str(v) for v in (fig.collected, fig.adopted, fig.in_progress, fig.done,
                             fig.declined, fig.new)] + [percent(fig.adoption_rate),
                                                       percent(fig.completion_rate)]


@page(Role.SECRETARY)
async def reports_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The filter form, the figures it gives, and a download button per format."""
    asked = parse_report_request(request.query, _today(request))
    context: dict[str, Any] = {"total": None, "parts": [], "scope": "", "period": "",
                               "seeds": None}

    def read(db: Session) -> tuple[dict[str, Any], list[Group], list[str]]:
        found = context
        if asked.report is not None:
            total = figures(db, asked.report)
            found = {
                "total": total, "total_cells": figure_cells(total),
                "parts": [(texts.REPORT_BY[by], texts.REPORT_BY_COLUMN[by],
                           [(label, figure_cells(fig)) for label, fig
                            in breakdown(db, asked.report, by)])
                          for by in ("hamlet", "topic", "night_talk")],
                "seeds": outcomes(db, asked.report, request.app[CONSOLE].services.clock()),
                "scope": describe_scope(db, asked.report),
                "period": describe_period(asked.report)}
        return found, groups(db), hamlets(db)

    context, group_list, hamlet_list = await in_session(
        request.app[CONSOLE].services.engine, read)
    # A request that cannot be read as asked is answered 400, with the page naming why.
    return render(request, viewer, "admin/reports.html", status=400 if asked.problems else 200,
                  values=asked.values,
                  problems=asked.problems, groups=group_list, hamlets=hamlet_list,
                  categories=[(key, label) for key, (label, _w) in CATEGORIES.items()],
                  formats=FORMATS, headers=texts.REPORT_FIGURE_HEADERS, base=BASE,
                  days=days_text,
                  downloads={kind: urlencode(asked.values | {"format": kind})
                             for kind in FORMATS},
                  **context)


def _writer(kind: str, media_base: str, media_dir: Path | None = None
            ) -> Callable[[Engine, ReportFilter, Path], Path]:
    if kind == "docx":
        def with_photos(engine: Engine, f: ReportFilter, path: Path) -> Path:
            return write_docx(engine, f, path, media_base=media_base, media_dir=media_dir)

        return with_photos
    write = write_xlsx if kind == "xlsx" else write_csv

    def with_links(engine: Engine, f: ReportFilter, path: Path) -> Path:
        return write(engine, f, path, media_base=media_base)

    return with_links


def produce(engine: Engine, f: ReportFilter, kind: str, media_base: str, folder: Path,
            media_dir: Path | None = None) -> Path:
    """Write the report file into `folder` and return where it is."""
    return _writer(kind, media_base, media_dir)(engine, f, folder / f"report.{kind}")


def disposition(f: ReportFilter, kind: str) -> str:
    """Content-Disposition naming the file in Chinese (filename*) with a plain fallback."""
    name = texts.REPORT_FILE_NAME.format(start=f.start, end=f.end, ext=kind)
    fallback = ASCII_NAME.format(start=f.start, end=f.end, ext=kind)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@page(Role.SECRETARY)
async def download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The report for the filter, in the chosen format, as a download."""
    asked = parse_report_request(request.query, _today(request))
    if asked.report is None or asked.problems:
        raise web.HTTPBadRequest(text="；".join(asked.problems) or texts.ADMIN_REPORT_FAILED,
                                 content_type="text/plain")
    console = request.app[CONSOLE]
    with tempfile.TemporaryDirectory(prefix="yehua-report-") as folder:
        # Writing a big report takes seconds: off the event loop, so the bot keeps answering.
        try:
            as_of = dataclasses.replace(asked.report, as_of=console.services.clock())
            path = await asyncio.to_thread(produce, console.services.engine, as_of,
                                           asked.kind, console.settings.base_url, Path(folder),
                                           console.settings.audio_dir)
        except ReportError as exc:  # e.g. too many suggestions for a Word table
            raise web.HTTPBadRequest(text=str(exc), content_type="text/plain") from exc
        except OSError as exc:  # the disk is full
            log.error("a %s report could not be written: %s", asked.kind, exc)
            raise web.HTTPInsufficientStorage(text=texts.ADMIN_REPORT_NO_ROOM,
                                              content_type="text/plain") from exc
        response = web.StreamResponse(headers={
            "Content-Type": CONTENT_TYPES[asked.kind],
            "Content-Disposition": disposition(asked.report, asked.kind)})
        response.content_length = path.stat().st_size
        await response.prepare(request)
        # Sent in pieces, so a report of 100,000 suggestions never sits whole in memory.
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                await response.write(chunk)
        await response.write_eof()
    log.info("%s downloaded a %s report for %s to %s", viewer.user.username, asked.kind,
             asked.report.start, asked.report.end)
    return response


def routes(router: web.UrlDispatcher) -> None:
    """Register the reports page and the download."""
    router.add_get(BASE, reports_page)
    router.add_get(BASE + "/download", download)
