"""The console's points page (积分清单): the village's list, giving points, taking them back."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlmodel import Session, col, select

from bot import texts
from bot.admin.core import (
    CONSOLE,
    Viewer,
    field_text,
    form,
    local_time,
    page,
    redirect,
    render,
    whole_number,
)
from bot.admin.suggestions import actor
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, Member, PointsItem, Role
from bot.core.roles import allows
from bot.domain.board import groups
from bot.domain.points import PointsRules
from bot.domain.points_items import (
    AWARD_ROLES,
    NAME_LIMIT,
    NOTE_LIMIT,
    Giver,
    ItemFields,
    PointsError,
    add_item,
    change_words,
    edit_item,
    get_item,
    give,
    item_name,
    recent_entries,
    revoke,
    revoked_message,
    set_active,
    tell_member,
    told_message,
    village_entry,
    village_items,
)
from bot.domain.villages import join_village, village_groups, village_of

log = logging.getLogger(__name__)

POINTS = "/admin/points"
FormData = MultiDictProxy[Any]


def _back(group_id: int) -> str:
    return f"{POINTS}?group={group_id}"


def _group(db: Session, group_id: int | None) -> Group:
    group = db.get(Group, group_id) if group_id is not None else None
    if group is None:
        raise PointsError(texts.ADMIN_NOT_FOUND_TEXT)
    return group


def _cap(data: FormData, name: str) -> int | None:
    raw = field_text(data, name, 12)
    if not raw:
        return None
    if not raw.isdigit():
        raise PointsError(texts.POINTS_ITEM_BAD_CAP)
    return int(raw) or None


def _fields(data: FormData) -> ItemFields:
    """An item's fields from the add or edit form; PointsError naming what is off."""
    raw = field_text(data, "points", 12).replace("＋", "").replace("+", "").replace("－", "-")
    try:
        points = int(raw)
    except ValueError as exc:
        raise PointsError(texts.POINTS_ITEM_BAD_POINTS.format(limit=10_000)) from exc
    try:
        role = Role(field_text(data, "award_role", 20))
    except ValueError as exc:
        raise PointsError(texts.POINTS_ITEM_BAD_ROLE) from exc
    return ItemFields(field_text(data, "name", NAME_LIMIT * 2), points, role,
                      _cap(data, "daily_cap"), _cap(data, "yearly_cap"),
                      data.get("needs_photo") == "on")


def _item_row(item: PointsItem) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "points": item.points, "change":
            change_words(item.points), "kind": item.kind, "role": item.award_role.value,
            "daily_cap": item.daily_cap, "yearly_cap": item.yearly_cap,
            "needs_photo": item.needs_photo, "active": item.active}


@page(Role.FACILITATOR)
async def points_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The village's list, the award form and the latest points given by hand."""
    console = request.app[CONSOLE]
    rules: PointsRules = console.services.rules
    wanted = whole_number(request.query.get("group"))

    def read(db: Session) -> dict[str, Any]:
        every = groups(db)
        group = next((g for g in every if g.id == wanted), every[0] if every else None)
        if group is None or group.id is None:
            return {"groups": every, "group": None}
        village = village_of(db, group)
        assert village.id is not None, "a stored village has an id"
        items = village_items(db, group, rules)
        names = {i.id: i.name for i in items}
        members = list(db.exec(select(Member).where(Member.group_id == group.id)
                               .order_by(col(Member.display_name))))
        entries = [{"id": e.id, "name": e.user_name, "item": names.get(e.item_id, "")
                    or item_name(db, e), "change": change_words(e.points), "note": e.note,
                    "by": e.by_name or "", "when": local_time(e.created_at, group.timezone),
                    "revoked": e.revoked_at is not None, "revoke_reason": e.revoke_reason}
                   for e in recent_entries(db, group)]
        return {"groups": every, "group": group, "village": village,
                "village_groups": [g.name for g in village_groups(db, village.id)],
                "items": [_item_row(i) for i in items], "members": members,
                "entries": entries}

    values = await in_session(console.services.engine, read)
    givable = [i for i in values.get("items", [])
               if i["kind"] is None and i["active"] and allows(viewer.role, Role(i["role"]))]
    return render(request, viewer, "admin/points.html", **values, givable=givable,
                  roles=AWARD_ROLES, role_labels=texts.POINTS_ROLE_LABELS,
                  may_edit=allows(viewer.role, Role.SECRETARY),
                  may_join=allows(viewer.role, Role.ADMIN), name_max=NAME_LIMIT,
                  note_max=NOTE_LIMIT, points_path=POINTS)


@page(Role.SECRETARY)
async def add_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Put a new item on the village's list."""
    data = await form(request)
    group_id = whole_number(field_text(data, "group", 12)) or 0
    try:
        fields = _fields(data)
        item = await in_session(request.app[CONSOLE].services.engine,
                                lambda db: add_item(db, _group(db, group_id), fields))
    except PointsError as exc:
        raise redirect(_back(group_id), str(exc), error=True) from exc
    raise redirect(_back(group_id), texts.ADMIN_POINTS_ADDED.format(name=item.name))


def _village_item(db: Session, group_id: int, item_id: int | None) -> PointsItem:
    village = village_of(db, _group(db, group_id))
    return get_item(db, item_id or 0, village_id=village.id)


@page(Role.SECRETARY)
async def edit_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Change an item; what was given for it before stays as given."""
    data = await form(request)
    group_id = whole_number(field_text(data, "group", 12)) or 0
    item_id = whole_number(request.match_info["item"])
    try:
        fields = _fields(data)
        item = await in_session(request.app[CONSOLE].services.engine, lambda db: edit_item(
            db, _village_item(db, group_id, item_id), fields))
    except PointsError as exc:
        raise redirect(_back(group_id), str(exc), error=True) from exc
    raise redirect(_back(group_id), texts.ADMIN_POINTS_SAVED.format(name=item.name))


@page(Role.SECRETARY)
async def active_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Switch an item off (it can no longer be given) or on again."""
    data = await form(request)
    group_id = whole_number(field_text(data, "group", 12)) or 0
    item_id = whole_number(request.match_info["item"])
    active = field_text(data, "active", 4) == "1"
    try:
        item = await in_session(request.app[CONSOLE].services.engine, lambda db: set_active(
            db, _village_item(db, group_id, item_id), active))
    except PointsError as exc:
        raise redirect(_back(group_id), str(exc), error=True) from exc
    raise redirect(_back(group_id), texts.ADMIN_POINTS_SAVED.format(name=item.name))


@page(Role.FACILITATOR)
async def award_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Give one item to each member ticked; each is told, and any refusal is listed."""
    data = await form(request)
    console = request.app[CONSOLE]
    group_id = whole_number(field_text(data, "group", 12)) or 0
    item_id = whole_number(field_text(data, "item", 12))
    who = [v for v in data.getall("who", []) if isinstance(v, str)][:200]
    note = field_text(data, "note", NOTE_LIMIT)
    photo_seen = data.get("photo_seen") == "on"
    by_id, by_name = actor(viewer)
    giver = Giver(by_id, by_name, viewer.role)
    if not who:
        raise redirect(_back(group_id), texts.ADMIN_POINTS_AWARD_NOBODY, error=True)

    def award(db: Session) -> tuple[Group, str, list[OutgoingText], list[str]]:
        group = _group(db, group_id)
        item = _village_item(db, group_id, item_id)
        told, problems = [], []
        for user_id in who:
            member = db.exec(select(Member).where(Member.group_id == group_id,
                                                  Member.user_id == user_id)).first()
            if member is None:
                problems.append(texts.POINTS_NO_SUCH_MEMBER.format(name=user_id))
                continue
            try:
                entry = give(db, group, item, member, giver, note=note, photo_seen=photo_seen,
                             now=console.services.clock())
            except PointsError as exc:
                problems.append(str(exc))
                continue
            told.append(told_message(entry, item.name))
        return group, item.name, told, problems

    try:
        group, name, told, problems = await in_session(console.services.engine, award)
    except PointsError as exc:
        raise redirect(_back(group_id), str(exc), error=True) from exc
    for message in told:
        await tell_member(console.services.outbox, group, message)
    if problems:
        raise redirect(_back(group_id), texts.ADMIN_POINTS_AWARD_PARTLY.format(
            count=len(told), problems=" ".join(problems)), error=True)
    raise redirect(_back(group_id), texts.ADMIN_POINTS_AWARDED.format(count=len(told),
                                                                      item=name))


@page(Role.SECRETARY)
async def revoke_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Take an award back with a reason; its row stays and stops counting."""
    data = await form(request)
    console = request.app[CONSOLE]
    group_id = whole_number(field_text(data, "group", 12)) or 0
    number = whole_number(request.match_info["entry"]) or 0
    _by_id, by_name = actor(viewer)

    def take_back(db: Session) -> tuple[Group, OutgoingText, str]:
        group = _group(db, group_id)
        entry = revoke(db, village_entry(db, number, group), by_name=by_name,
                       reason=field_text(data, "reason", NOTE_LIMIT),
                       now=console.services.clock())
        owner = db.get(Group, entry.group_id) or group
        name = item_name(db, entry)
        return owner, revoked_message(entry, name), texts.POINTS_REVOKED.format(
            number=number, name=entry.user_name, item=name, change=change_words(entry.points))

    try:
        owner, told, flash = await in_session(console.services.engine, take_back)
    except PointsError as exc:
        raise redirect(_back(group_id), str(exc), error=True) from exc
    await tell_member(console.services.outbox, owner, told)
    raise redirect(_back(group_id), flash)


@page(Role.ADMIN)
async def join_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Put the group into another group's village: one points list for both."""
    data = await form(request)
    group_id = whole_number(field_text(data, "group", 12)) or 0
    other_id = whole_number(field_text(data, "other", 12))

    def join(db: Session) -> str:
        group, other = _group(db, group_id), _group(db, other_id)
        village = join_village(db, group, other)
        return texts.ADMIN_POINTS_JOINED.format(group=group.name, village=village.name)

    try:
        flash = await in_session(request.app[CONSOLE].services.engine, join)
    except PointsError as exc:
        raise redirect(_back(group_id), str(exc), error=True) from exc
    raise redirect(_back(group_id), flash)


def routes(router: web.UrlDispatcher) -> None:
    """Register the points page and its forms."""
    router.add_get(POINTS, points_page)
    router.add_post(POINTS + "/items", add_action)
    router.add_post(POINTS + "/items/{item}", edit_action)
    router.add_post(POINTS + "/items/{item}/active", active_action)
    router.add_post(POINTS + "/award", award_action)
    router.add_post(POINTS + "/entries/{entry}/revoke", revoke_action)
    router.add_post(POINTS + "/village", join_action)
