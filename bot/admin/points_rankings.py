"""Console page for the points rankings (积分排名): a year's or a month's lists on screen, by
person and by household for each village, and the workbook to download."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from aiohttp import web
from sqlmodel import Session

from bot import texts
from bot.admin.core import CONSOLE, Viewer, page, render
from bot.core.db import in_session
from bot.core.models import Group, Role
from bot.domain.board import groups
from bot.domain.rankings import Period, Place, household_ranking, person_ranking
from bot.reports.points_xlsx import scopes, write_points_xlsx

log = logging.getLogger(__name__)

BASE = "/admin/points/rankings"
SHOWN = 20  # lines of each list on screen; the workbook has them all
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class RankingRequest:
    """The form as read: the period, the group (None: every village), and any problems."""

    period: Period
    group_id: int | None
    values: dict[str, str]
    problems: tuple[str, ...]


def parse_request(query: Mapping[str, str], this_year: int) -> RankingRequest:
    """Year (default this one), month (none: the whole year) and group from GET parameters."""
    problems: list[str] = []
    year_text = query.get("year", "").strip() or str(this_year)
    month_text = query.get("month", "").strip()
    group_text = query.get("group", "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(texts.ADMIN_POINTS_BAD.format(text=year_text))
        year = this_year
    month = int(month_text) if month_text.isdigit() and len(month_text) <= 2 else None
    if month_text and (month is None or not 1 <= month <= 12):
        problems.append(texts.ADMIN_POINTS_BAD.format(text=month_text))
        month = None
    group_id = int(group_text) if group_text.isdigit() and len(group_text) <= 9 else None
    values = {"year": str(year), "month": str(month or ""),
              "group": str(group_id) if group_id else ""}
    return RankingRequest(Period(year, month), group_id, values, tuple(problems))


def _this_year(request: web.Request) -> int:
    console = request.app[CONSOLE]
    return console.services.clock().astimezone(console.settings.zone).year


def _lists(db: Session, asked: RankingRequest
           ) -> tuple[list[tuple[str, list[Place], list[Place]]], list[Group]]:
    found = [(name, person_ranking(db, group, asked.period)[:SHOWN],
              household_ranking(db, group, asked.period)[:SHOWN])
             for name, group in scopes(db, asked.group_id)]
    return found, groups(db)


@page(Role.SECRETARY)
async def rankings_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The form, each village's lists for the period, and the download button."""
    asked = parse_request(request.query, _this_year(request))
    lists, group_list = await in_session(request.app[CONSOLE].services.engine, _lists, asked)
    return render(request, viewer, "admin/points_rankings.html",
                  status=400 if asked.problems else 200, values=asked.values,
                  problems=asked.problems, groups=group_list, lists=lists, base=BASE,
                  period=asked.period.label(), months=range(1, 13),
                  download=urlencode(asked.values))


@page(Role.SECRETARY)
async def download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The workbook for the period (and group's village, if one is chosen)."""
    asked = parse_request(request.query, _this_year(request))
    if asked.problems:
        raise web.HTTPBadRequest(text="；".join(asked.problems), content_type="text/plain")
    engine = request.app[CONSOLE].services.engine
    name = texts.EXPORT_FILE_NAME.format(period=asked.period.label())
    month = f"-{asked.period.month:02d}" if asked.period.month else ""
    fallback = f"points_{asked.period.year}{month}.xlsx"  # for browsers that ignore filename*
    with tempfile.TemporaryDirectory(prefix="yehua-points-") as folder:
        path = Path(folder) / "points.xlsx"
        # A year of a big village takes seconds to write: off the loop, so the bot answers.
        try:
            await asyncio.to_thread(write_points_xlsx, engine, asked.period, path,
                                    asked.group_id)
        except OSError as exc:  # the disk is full
            log.error("the points of %s could not be written: %s", asked.period.label(), exc)
            raise web.HTTPInsufficientStorage(text=texts.ADMIN_REPORT_NO_ROOM,
                                              content_type="text/plain") from exc
        body = await asyncio.to_thread(path.read_bytes)
    log.info("%s downloaded the points of %s", viewer.user.username, asked.period.label())
    return web.Response(body=body, headers={
        "Content-Type": XLSX,
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}"})


def routes(router: web.UrlDispatcher) -> None:
    """Register the rankings page and its download."""
    router.add_get(BASE, rankings_page)
    router.add_get(BASE + "/download", download)
