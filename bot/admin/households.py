"""Households (户) of a village: made, renamed, removed, people placed in one, and a sheet of
them downloaded and imported all or nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from sqlmodel import Session, col, select

from bot import texts
from bot.admin.core import (
    Viewer,
    console_of,
    field_text,
    form,
    page,
    redirect,
    render,
    whole_number,
)
from bot.core.db import in_session
from bot.core.models import Group, Role, Village
from bot.domain.households import (
    HOUSEHOLD_NAME_MAX,
    HouseholdError,
    HouseholdSize,
    ImportResult,
    add_household,
    import_households,
    list_households,
    place_person,
    remove_household,
    rename_household,
)
from bot.domain.village_members import ImportRefused, village_people
from bot.domain.villages import village_id_of
from bot.reports.points_sheets import SheetError, household_template, read_household_rows

USER_MAX = 128


@dataclass(frozen=True)
class VillageChoice:
    """A village to pick, with the names of its groups."""

    id: int
    name: str
    groups: str


def villages(db: Session) -> list[VillageChoice]:
    """Every village that has groups, with their names; a group without one gets its own
    village first. A village whose groups all joined another has no members left to place or
    award: it is not offered (what it holds stays stored)."""
    groups = list(db.exec(select(Group).order_by(col(Group.id))))
    for group in groups:
        village_id_of(db, group)
    names: dict[int, list[str]] = {}
    for group in groups:
        names.setdefault(group.village_id or 0, []).append(group.name)
    return [VillageChoice(v.id or 0, v.name, "、".join(names[v.id or 0]))
            for v in db.exec(select(Village).order_by(col(Village.name)))
            if (v.id or 0) in names]


def village_from(db: Session, request: web.Request) -> Village:
    """The village named in the path, or 404."""
    village_id = whole_number(request.match_info["village"])
    village = db.get(Village, village_id) if village_id is not None else None
    if village is None:
        raise web.HTTPNotFound()
    return village


async def uploaded(request: web.Request) -> bytes | None:
    """The bytes of the form's `file` field, or None when no file was chosen."""
    field = (await form(request)).get("file")
    if not isinstance(field, web.FileField):
        return None
    data = field.file.read()
    return data or None


@page(Role.SECRETARY)
async def village_list(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Pick the village whose households to look after."""
    found = await in_session(console_of(request).services.engine, villages)
    return render(request, viewer, "admin/villages.html", villages=found,
                  base="/admin/households", title=texts.ADMIN_NAV_HOUSEHOLDS)


def _page(request: web.Request, viewer: Viewer, village: Village, households: list[HouseholdSize],
          people: list[tuple[str, str, int | None]], *, problems: list[str] | None = None,
          status: int = 200) -> web.Response:
    members: dict[int, list[str]] = {}
    for name, _user, household_id in people:
        if household_id is not None:
            members.setdefault(household_id, []).append(name)
    return render(request, viewer, "admin/households.html", status=status, village=village,
                  households=households, people=people, members=members,
                  problems=problems or [], name_max=HOUSEHOLD_NAME_MAX)


def _read(db: Session, request: web.Request
          ) -> tuple[Village, list[HouseholdSize], list[tuple[str, str, int | None]]]:
    village = village_from(db, request)
    people = [(m.display_name, m.user_id, m.household_id)
              for m in village_people(db, village.id or 0)]
    return village, list_households(db, village.id or 0), people


@page(Role.SECRETARY)
async def household_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """A village's households with their people, and every person with a household to pick."""
    village, households, people = await in_session(console_of(request).services.engine,
                                                   _read, request)
    return _page(request, viewer, village, households, people)


def _back(village: Village) -> str:
    return f"/admin/households/{village.id}"


@page(Role.SECRETARY)
async def add_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Make a household."""
    name = field_text(await form(request), "name", 200)

    def add(db: Session) -> tuple[str, str]:
        village = village_from(db, request)
        try:
            household = add_household(db, village.id or 0, name)
        except HouseholdError as exc:
            raise redirect(_back(village), str(exc), error=True) from exc
        return _back(village), texts.ADMIN_HOUSEHOLD_ADDED.format(name=household.name)

    back, message = await in_session(console_of(request).services.engine, add)
    raise redirect(back, message)


@page(Role.SECRETARY)
async def rename_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Rename a household; its people stay in it."""
    name = field_text(await form(request), "name", 200)
    household_id = whole_number(request.match_info["household"]) or 0

    def rename(db: Session) -> tuple[str, str]:
        village = village_from(db, request)
        try:
            household = rename_household(db, village.id or 0, household_id, name)
        except HouseholdError as exc:
            raise redirect(_back(village), str(exc), error=True) from exc
        return _back(village), texts.ADMIN_HOUSEHOLD_RENAMED.format(name=household.name)

    back, message = await in_session(console_of(request).services.engine, rename)
    raise redirect(back, message)


@page(Role.SECRETARY)
async def remove_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Remove a household; its people belong to none afterwards."""
    household_id = whole_number(request.match_info["household"]) or 0

    def remove(db: Session) -> tuple[str, str]:
        village = village_from(db, request)
        try:
            name, people = remove_household(db, village.id or 0, household_id)
        except HouseholdError as exc:
            raise redirect(_back(village), str(exc), error=True) from exc
        return _back(village), texts.ADMIN_HOUSEHOLD_REMOVED.format(name=name, n=people)

    back, message = await in_session(console_of(request).services.engine, remove)
    raise redirect(back, message)


@page(Role.SECRETARY)
async def place_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Place a person in one of the village's households, or in none."""
    data = await form(request)
    user_id, chosen = field_text(data, "user_id", USER_MAX), field_text(data, "household", 20)
    # The group page's member list places people too, and wants them back on that page.
    back_to = field_text(data, "back", 200)

    def place(db: Session) -> tuple[str, str]:
        village = village_from(db, request)
        back = back_to if back_to.startswith("/admin/groups/") else _back(village)
        household_id = whole_number(chosen) if chosen else None
        if chosen and household_id is None:
            raise redirect(back, texts.HOUSEHOLD_GONE, error=True)
        names = {m.user_id: m.display_name for m in village_people(db, village.id or 0)}
        if user_id not in names:
            raise redirect(back, texts.ADMIN_HOUSEHOLD_NO_PERSON, error=True)
        try:
            place_person(db, village.id or 0, user_id, household_id)
        except HouseholdError as exc:
            raise redirect(back, str(exc), error=True) from exc
        if household_id is None:
            return back, texts.ADMIN_HOUSEHOLD_CLEARED.format(name=names[user_id])
        households = {h.id: h.name for h in list_households(db, village.id or 0)}
        return back, texts.ADMIN_HOUSEHOLD_PLACED.format(
            name=names[user_id], household=households[household_id])

    back, message = await in_session(console_of(request).services.engine, place)
    raise redirect(back, message)


@page(Role.SECRETARY)
async def sheet_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The household sheet, filled in with the households as they are."""

    def read(db: Session) -> bytes:
        village = village_from(db, request)
        households = {h.id: h.name for h in list_households(db, village.id or 0)}
        return household_template(village_people(db, village.id or 0), households)

    data = await in_session(console_of(request).services.engine, read)
    return xlsx_response(data, texts.HOUSEHOLD_SHEET_TITLE)


def xlsx_response(data: bytes, name: str) -> web.Response:
    """An XLSX file to download under a Chinese file name."""
    return web.Response(body=data, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f"attachment; filename=\"sheet.xlsx\"; "
                               f"filename*=UTF-8''{quote(name)}.xlsx"})


@page(Role.SECRETARY)
async def import_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Import the household sheet: every row right, or nothing changed and each problem shown."""
    engine = console_of(request).services.engine
    data = await uploaded(request)
    problems: list[str] = []
    result: ImportResult | None = None
    if data is None:
        problems = [texts.SHEET_NO_FILE]
    else:
        try:
            rows = await asyncio.to_thread(read_household_rows, data)
        except SheetError as exc:
            problems = [str(exc)]
        else:
            def apply(db: Session) -> ImportResult:
                return import_households(db, village_from(db, request).id or 0, rows)

            try:
                result = await in_session(engine, apply)
            except ImportRefused as exc:
                problems = exc.problems
    if result is not None:
        raise redirect(f"/admin/households/{request.match_info['village']}",
                       texts.ADMIN_HOUSEHOLD_IMPORTED.format(created=result.created,
                                                            placed=result.placed))
    village, households, people = await in_session(engine, _read, request)
    return _page(request, viewer, village, households, people, problems=problems, status=400)


def routes(router: web.UrlDispatcher) -> None:
    """Register the household pages."""
    router.add_get("/admin/households", village_list)
    router.add_get("/admin/households/{village}", household_page)
    router.add_post("/admin/households/{village}", add_action)
    router.add_post("/admin/households/{village}/place", place_action)
    router.add_get("/admin/households/{village}/sheet.xlsx", sheet_download)
    router.add_post("/admin/households/{village}/import", import_action)
    router.add_post("/admin/households/{village}/{household}/rename", rename_action)
    router.add_post("/admin/households/{village}/{household}/remove", remove_action)
