"""Points from a spreadsheet: the template to fill in, and the upload, stored whole or not at
all with every wrong row named."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import Session

from bot import texts
from bot.admin.core import Viewer, console_of, page, redirect, render, zone_of
from bot.admin.households import uploaded, village_from, villages, xlsx_response
from bot.core.db import in_session
from bot.core.models import PointsItem, Role, Village
from bot.domain.bulk_awards import Giver, apply_awards, village_items
from bot.domain.households import list_households
from bot.domain.village_members import ImportRefused, group_of_village, village_people
from bot.reports.points_sheets import SheetError, award_template, read_award_rows


@page(Role.FACILITATOR)
async def village_list(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Pick the village to give points in."""
    found = await in_session(console_of(request).services.engine, villages)
    return render(request, viewer, "admin/villages.html", villages=found,
                  base="/admin/bulk-points", title=texts.ADMIN_NAV_BULK_POINTS)


def _read(db: Session, request: web.Request) -> tuple[Village, list[PointsItem]]:
    village = village_from(db, request)
    return village, [i for i in village_items(db, village.id or 0) if i.active]


def _page(request: web.Request, viewer: Viewer, village: Village, items: list[PointsItem], *,
          problems: list[str] | None = None, status: int = 200) -> web.Response:
    return render(request, viewer, "admin/bulk_points.html", status=status, village=village,
                  items=items, problems=problems or [])


@page(Role.FACILITATOR)
async def upload_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The template to download and the form to upload it filled in."""
    village, items = await in_session(console_of(request).services.engine, _read, request)
    return _page(request, viewer, village, items)


@page(Role.FACILITATOR)
async def template_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The award sheet of this village, with its items and people for reference."""

    def read(db: Session) -> bytes:
        village = village_from(db, request)
        vid = village.id or 0
        households = {h.id: h.name for h in list_households(db, vid)}
        return award_template(village.name, village_items(db, vid), village_people(db, vid),
                              households)

    data = await in_session(console_of(request).services.engine, read)
    return xlsx_response(data, texts.BULK_SHEET_TITLE)


@page(Role.FACILITATOR)
async def upload_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Store every row of the uploaded sheet, or none, listing each wrong row."""
    console = console_of(request)
    engine, now = console.services.engine, console.services.clock()
    giver = Giver(id=f"console:{viewer.user.username}", name=viewer.user.display_name,
                  role=viewer.role)
    data = await uploaded(request)
    problems: list[str] = []
    if data is None:
        problems = [texts.SHEET_NO_FILE]
    else:
        try:
            rows = await asyncio.to_thread(read_award_rows, data)
        except SheetError as exc:
            problems = [str(exc)]
        else:
            def apply(db: Session) -> tuple[int, int]:
                village = village_from(db, request)
                group = group_of_village(db, village.id or 0)
                zone = zone_of(group.timezone if group else None, console.settings.timezone)
                entries = apply_awards(db, village.id or 0, rows, giver, now, zone)
                return len(entries), sum(e.points for e in entries)

            try:
                stored, points = await in_session(engine, apply)
            except ImportRefused as exc:
                problems = exc.problems
            else:
                raise redirect(f"/admin/bulk-points/{request.match_info['village']}",
                               texts.ADMIN_BULK_DONE.format(n=stored, points=points))
    village, items = await in_session(engine, _read, request)
    return _page(request, viewer, village, items, problems=problems, status=400)


def routes(router: web.UrlDispatcher) -> None:
    """Register the spreadsheet award pages."""
    router.add_get("/admin/bulk-points", village_list)
    router.add_get("/admin/bulk-points/{village}", upload_page)
    router.add_post("/admin/bulk-points/{village}", upload_action)
    router.add_get("/admin/bulk-points/{village}/template.xlsx", template_download)
