"""Groups and roles: a group's name, hamlet, time zone and voice, its 屋场 and who is in which,
and who holds which role."""

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
from bot.core.models import Group, Hamlet, Member, Role
from bot.domain.hamlets import (
    HAMLET_NAME_MAX,
    HamletError,
    add_hamlet,
    assign_member,
    hamlet_sizes,
    remove_hamlet,
    rename_hamlet,
)
from bot.domain.households import HouseholdSize, list_households
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

    def read(db: Session) -> tuple[Group, list[Member], list[Member], list[dict[str, object]],
                                   list[HouseholdSize]]:
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
        hamlets: list[dict[str, object]] = [
            {"id": h.id, "name": h.name, "members": size}
            for h, size in hamlet_sizes(db, group.id or 0)]
        households = list_households(db, group.village_id) if group.village_id else []
        return group, holders, found, hamlets, households

    console = console_of(request)
    group, holders, found, hamlets, households = await in_session(console.services.engine, read)
    zones = ZONES if group.timezone in ZONES else (group.timezone, *ZONES)
    link = ledger_url(console.settings.base_url, group.ledger_key) if group.ledger_key else None
    return render(request, viewer, "admin/groups_detail.html", group=group, holders=holders,
                  found=found, query=query, zones=zones, profiles=list(PROFILES.values()),
                  roles=ROLES, hamlets=hamlets, hamlet_max=HAMLET_NAME_MAX, ledger_link=link,
                  households=households)


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


def _hamlet_of(db: Session, group: Group, request: web.Request) -> Hamlet:
    hamlet_id = whole_number(request.match_info["hamlet"])
    hamlet = db.get(Hamlet, hamlet_id) if hamlet_id is not None else None
    if hamlet is None or hamlet.group_id != group.id:
        raise web.HTTPNotFound()
    return hamlet


@page(Role.ADMIN)
async def add_hamlet_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Add a hamlet (屋场) to the group."""
    name = field_text(await form(request), "name", 200)

    def add(db: Session) -> tuple[str, str]:
        group = _group(db, request)
        back = f"/admin/groups/{group.id}#hamlets"
        try:
            hamlet = add_hamlet(db, group, name)
        except HamletError as exc:
            raise redirect(back, str(exc), error=True) from exc
        return back, texts.ADMIN_HAMLET_ADDED.format(name=hamlet.name)

    back, message = await in_session(console_of(request).services.engine, add)
    raise redirect(back, message)


@page(Role.ADMIN)
async def rename_hamlet_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Rename a hamlet: its members go with it; recorded suggestions keep the old name."""
    name = field_text(await form(request), "name", 200)

    def rename(db: Session) -> tuple[str, str]:
        group = _group(db, request)
        back = f"/admin/groups/{group.id}#hamlets"
        hamlet = _hamlet_of(db, group, request)
        try:
            renamed = rename_hamlet(db, group.id or 0, hamlet.name, name)
        except HamletError as exc:
            raise redirect(back, str(exc), error=True) from exc
        return back, texts.ADMIN_HAMLET_RENAMED.format(name=renamed.name)

    back, message = await in_session(console_of(request).services.engine, rename)
    raise redirect(back, message)


@page(Role.ADMIN)
async def remove_hamlet_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Remove a hamlet; its members belong to none afterwards."""

    def remove(db: Session) -> tuple[str, str]:
        group = _group(db, request)
        hamlet = _hamlet_of(db, group, request)
        moved = remove_hamlet(db, group.id or 0, hamlet.name)
        return (f"/admin/groups/{group.id}#hamlets",
                texts.ADMIN_HAMLET_REMOVED.format(name=hamlet.name, n=moved))

    back, message = await in_session(console_of(request).services.engine, remove)
    raise redirect(back, message)


@page(Role.ADMIN)
async def member_hamlet_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Place a member in one of the group's hamlets, or in none."""
    data = await form(request)
    user_id, hamlet_id = field_text(data, "user_id", USER_MAX), field_text(data, "hamlet", 20)

    def assign(db: Session) -> tuple[str, str]:
        group = _group(db, request)
        back = f"/admin/groups/{group.id}"
        member = find_member(db, group, user_id)
        if member is None:
            raise redirect(back, texts.ADMIN_MEMBER_NOT_FOUND.format(user=user_id), error=True)
        chosen = whole_number(hamlet_id)
        hamlet = db.get(Hamlet, chosen) if chosen is not None else None
        if hamlet_id and (hamlet is None or hamlet.group_id != group.id):
            raise redirect(back, texts.ADMIN_MEMBER_BAD_HAMLET, error=True)
        assign_member(db, group.id or 0, member, hamlet.name if hamlet else "")
        if hamlet is None:
            return back, texts.ADMIN_MEMBER_HAMLET_CLEARED.format(name=member.display_name)
        return back, texts.ADMIN_MEMBER_HAMLET_SET.format(name=member.display_name,
                                                          hamlet=hamlet.name)

    back, message = await in_session(console_of(request).services.engine, assign)
    raise redirect(back, message)


def routes(router: web.UrlDispatcher) -> None:
    """Register the groups and roles pages."""
    router.add_get("/admin/groups", group_list)
    router.add_get("/admin/groups/{id}", group_page)
    router.add_post("/admin/groups/{id}", save_group)
    router.add_post("/admin/groups/{id}/roles", set_role)
    router.add_post("/admin/groups/{id}/hamlets", add_hamlet_action)
    router.add_post("/admin/groups/{id}/hamlets/{hamlet}/rename", rename_hamlet_action)
    router.add_post("/admin/groups/{id}/hamlets/{hamlet}/remove", remove_hamlet_action)
    router.add_post("/admin/groups/{id}/member-hamlet", member_hamlet_action)
    router.add_post("/admin/groups/{id}/ledger", change_ledger)
