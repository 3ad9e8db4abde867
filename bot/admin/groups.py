"""Groups and roles: a group's name, hamlet, time zone and voice, and who holds which role."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func
from sqlmodel import Session, col, or_, select

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
    zone_of,
)
from bot.core.db import in_session
from bot.core.models import Group, Member, Role
from bot.domain.ledger import ledger_url, rotate_ledger_key
from bot.domain.members import find_member, grant_role
from lessons.profiles import PROFILES
from scheduler.schedules import move_group_zone

NAME_MAX, HAMLET_MAX, USER_MAX = 60, 40, 128
SEARCH_LIMIT = 50
ZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei")
ROLES = (Role.MEMBER, Role.FACILITATOR, Role.SECRETARY, Role.ADMIN)


def _group(db: Session, request: web.Request) -> Group:
    group_id = whole_number(request.match_info["id"])
    group = db.get(Group, group_id) if group_id is not None else None
    if group is None:
        raise web.HTTPNotFound()
    return group


@page(Role.ADMIN)
async def group_list(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Every group with its hamlet, platform and how many hold a role in it."""

    def read(db: Session) -> tuple[list[Group], dict[int, int], dict[int, int]]:
        groups = list(db.exec(select(Group).order_by(col(Group.name))))
        members = dict(db.exec(select(Member.group_id, func.count(col(Member.id)))
                               .group_by(col(Member.group_id))).all())
        holders = dict(db.exec(select(Member.group_id, func.count(col(Member.id)))
                               .where(col(Member.role) != Role.MEMBER)
                               .group_by(col(Member.group_id))).all())
        return groups, members, holders

    groups, members, holders = await in_session(console_of(request).services.engine, read)
    return render(request, viewer, "admin/groups.html", groups=groups, members=members,
                  holders=holders)


@page(Role.ADMIN)
async def group_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One group: its settings, its role holders, and a search among its members."""
    query = request.query.get("q", "").strip()[:USER_MAX]

    def read(db: Session) -> tuple[Group, list[Member], list[Member]]:
        group = _group(db, request)
        holders = list(db.exec(select(Member).where(
            Member.group_id == group.id, col(Member.role) != Role.MEMBER)
            .order_by(col(Member.display_name))))
        found: list[Member] = []
        if query:
            found = list(db.exec(select(Member).where(
                Member.group_id == group.id,
                or_(col(Member.display_name).contains(query), col(Member.user_id) == query))
                .order_by(col(Member.display_name)).limit(SEARCH_LIMIT)))
        return group, holders, found

    console = console_of(request)
    group, holders, found = await in_session(console.services.engine, read)
    zones = ZONES if group.timezone in ZONES else (group.timezone, *ZONES)
    link = ledger_url(console.settings.base_url, group.ledger_key) if group.ledger_key else None
    return render(request, viewer, "admin/groups_detail.html", group=group, holders=holders,
                  found=found, query=query, zones=zones, profiles=list(PROFILES.values()),
                  roles=ROLES, ledger_link=link)


@page(Role.ADMIN)
async def change_ledger(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Make the group's ledger link, or replace it: the old link stops working."""

    def change(db: Session) -> tuple[str, bool]:
        group = _group(db, request)
        had = group.ledger_key is not None
        rotate_ledger_key(db, group)
        return f"/admin/groups/{group.id}", had

    back, had = await in_session(console_of(request).services.engine, change)
    raise redirect(back, texts.ADMIN_LEDGER_ROTATED if had else texts.ADMIN_LEDGER_MADE)


@page(Role.ADMIN)
async def save_group(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Save a group's name, hamlet, time zone and speech profile."""
    data = await form(request)
    name, hamlet = field_text(data, "name", 200), field_text(data, "hamlet", 200)
    timezone, profile = field_text(data, "timezone", 64), field_text(data, "speech_profile", 20)

    def save(db: Session) -> str:
        group = _group(db, request)
        back = f"/admin/groups/{group.id}"
        problem = None
        if not name or len(name) > NAME_MAX:
            problem = texts.ADMIN_GROUP_BAD_NAME.format(n=NAME_MAX)
        elif len(hamlet) > HAMLET_MAX:
            problem = texts.ADMIN_GROUP_BAD_HAMLET.format(n=HAMLET_MAX)
        elif not timezone or zone_of(timezone, "UTC").key != timezone:
            problem = texts.ADMIN_GROUP_BAD_ZONE
        elif profile not in PROFILES:
            problem = texts.ADMIN_GROUP_BAD_PROFILE
        if problem:
            raise redirect(back, problem, error=True)
        group.name, group.hamlet = name, hamlet
        if timezone != group.timezone:
            move_group_zone(db, group.id or 0, timezone)
        group.timezone, group.speech_profile = timezone, profile
        db.add(group)
        return back

    back = await in_session(console_of(request).services.engine, save)
    raise redirect(back, texts.ADMIN_GROUP_SAVED.format(name=name))


@page(Role.ADMIN)
async def set_role(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Grant or revoke a role in the group (the Member table, as the chat's role checks read)."""
    data = await form(request)
    user_id, name = field_text(data, "user_id", USER_MAX), field_text(data, "name", NAME_MAX)
    try:
        role = Role(field_text(data, "role"))
    except ValueError:
        role = None

    def grant(db: Session) -> tuple[str, str]:
        group = _group(db, request)
        back = f"/admin/groups/{group.id}"
        if role is None or not user_id:
            raise redirect(back, texts.ADMIN_ROLE_BAD, error=True)
        if find_member(db, group, user_id) is None and role == Role.MEMBER:
            raise redirect(back, texts.ADMIN_ROLE_NO_MEMBER.format(user=user_id), error=True)
        member = grant_role(db, group, user_id, role, name or None)
        return back, texts.ADMIN_ROLE_SET.format(name=member.display_name, group=group.name,
                                                 role=texts.ADMIN_ROLE_LABELS[role.value])

    back, message = await in_session(console_of(request).services.engine, grant)
    raise redirect(back, message)


def routes(router: web.UrlDispatcher) -> None:
    """Register the groups and roles pages."""
    router.add_get("/admin/groups", group_list)
    router.add_get("/admin/groups/{id}", group_page)
    router.add_post("/admin/groups/{id}", save_group)
    router.add_post("/admin/groups/{id}/roles", set_role)
    router.add_post("/admin/groups/{id}/ledger", change_ledger)
