"""Console pages for the suggestions board: filter, reply and move, file, merge, type voice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlmodel import Session

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
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.models import Group, NightTalk, PhotoKind, Role, Suggestion, SuggestionStatus
from bot.domain.adoption import move_suggestion
from bot.domain.board import (
    PER_PAGE,
    board,
    groups,
    hamlets,
    page_count,
    parse_board_filter,
    room_url,
)
from bot.domain.hamlets import hamlet_names, set_suggestion_hamlet
from bot.domain.handling import OPEN, due_text, is_overdue, member_names
from bot.domain.merging import duplicates_of, is_merge_step, merge_suggestion, unmerge_suggestion
from bot.domain.notices import notify_status_change
from bot.domain.photos import photos_for
from bot.domain.suggestions import (
    CATEGORIES,
    STATUS_LABELS,
    TRANSITIONS,
    SuggestionError,
    get_suggestion,
    history,
    set_category,
    set_text,
)
from bot.domain.transcripts import settle_machine_text
from bot.reports.rows import voice_link
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

BASE = "/admin/suggestions"
DEFAULT_ZONE = "Asia/Shanghai"
MAX_NUMBER = 2**63 - 1  # larger cannot be a row id, on any database


def actor(viewer: Viewer) -> tuple[str, str]:
    """Who a console user is in a suggestion's history: an id of their own, their name."""
    return f"console:{viewer.user.username}", viewer.user.display_name


def _number(request: web.Request) -> int:
    number = whole_number(request.match_info["number"])
    if number is None or number > MAX_NUMBER:
        raise web.HTTPNotFound(text=texts.ADMIN_SUG_NOT_FOUND)
    return number


def _choices() -> dict[str, Any]:
    return {"categories": [(key, label) for key, (label, _words) in CATEGORIES.items()],
            "statuses": [(status.value, label) for status, label in STATUS_LABELS.items()]}


@page(Role.SECRETARY)
async def board_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The board: filtered by GET parameters, newest first, one page at a time."""
    f = parse_board_filter(request.query)
    number = request.query.get("page", "1")
    current = int(number) if number.isdigit() and len(number) <= 6 else 1

    def read(db: Session) -> tuple[list[Suggestion], int, int, list[Group], list[str],
                                   set[int]]:
        page_number = current
        rows, total = board(db, f, page_number, PER_PAGE)
        if not rows and page_number > page_count(total, PER_PAGE):  # an old link past the end
            page_number = page_count(total, PER_PAGE)
            rows, total = board(db, f, page_number, PER_PAGE)
        pictured = set(photos_for(db, [row.id for row in rows if row.id is not None]))
        return rows, total, page_number, groups(db), hamlets(db), pictured

    rows, total, current, group_list, hamlet_list, pictured = await in_session(
        request.app[CONSOLE].services.engine, read)
    names = {g.id: g for g in group_list}
    pages = page_count(total, PER_PAGE)
    now = request.app[CONSOLE].services.clock()
    items = [_row(row, names.get(row.group_id), None, now) | {"photo": row.id in pictured}
             for row in rows]
    # A filter that cannot be read as asked is answered 400, with the page naming why.
    return render(request, viewer, "admin/suggestions.html", status=400 if f.problems else 200,
                  filter=f, rows=items, total=total,
                  page=current, pages=pages, groups=group_list, hamlets=hamlet_list,
                  base=BASE, **_choices())


def _row(row: Suggestion, group: Group | None, talk: NightTalk | None,
         now: datetime | None = None) -> dict[str, Any]:
    timezone = group.timezone if group else DEFAULT_ZONE
    handling = {"handler": row.handler_name or "" if row.assigned_at else "",
                "handler_role": row.handler_role or "", "handler_phone": row.handler_phone or "",
                "due": due_text(row.due_at, timezone),
                "overdue": is_overdue(row, now or utcnow()),
                "can_assign": row.status in OPEN}
    return {"number": row.id, "when": local_time(row.created_at, timezone),
            "group": group.name if group else "", "author": row.author_name,
            "raised_by": row.raised_by_name or "", "hamlet": row.hamlet, "text": row.text,
            "voice": bool(row.voice_path), "machine": row.machine_text,
            "category": CATEGORIES.get(row.category, (row.category,))[0],
            "status": row.status.value, "status_label": STATUS_LABELS[row.status],
            "reply": row.reply or "", "merged_into": row.merged_into,
            "talk": talk.topic if talk else "", **handling}


def _detail(db: Session, number: int, now: datetime | None = None) -> dict[str, Any]:
    try:
        row = get_suggestion(db, number)
    except SuggestionError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    group = db.get(Group, row.group_id)
    talk = db.get(NightTalk, row.night_talk_id) if row.night_talk_id else None
    timezone = group.timezone if group else DEFAULT_ZONE
    steps = [{"when": local_time(change.created_at, timezone), "actor": change.actor_name,
              "merge": is_merge_step(change), "from": STATUS_LABELS[change.from_status],
              "to": STATUS_LABELS[change.to_status], "reply": change.reply}
             for change in history(db, number)]
    dupes = [_row(d, group, None) for d in duplicates_of(db, number)]
    shots = [{"url": voice_link(p.path), "thumb": voice_link(p.thumb_path),
              "done": p.kind == PhotoKind.DONE, "who": p.uploader_name,
              "when": local_time(p.created_at, timezone)}
             for p in photos_for(db, [number]).get(number, [])]
    # The group's hamlets, its own default, and what was recorded (kept even if since renamed).
    choices = [*hamlet_names(db, row.group_id), group.hamlet if group else ""]
    hamlet_choices = [name for name in dict.fromkeys(choices) if name]
    return {"hamlet_choices": hamlet_choices,
            "s": _row(row, group, talk, now), "members": member_names(db, row.group_id),
            "voice_url": voice_link(row.voice_path), "photos": shots,
            "next_steps": [(s.value, STATUS_LABELS[s]) for s in SuggestionStatus
                           if s in TRANSITIONS[row.status]],
            "category_key": row.category, "history": steps, "duplicates": dupes,
            "group_url": room_url(group)}


@page(Role.SECRETARY)
async def detail_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One suggestion: its words (or voice), where it stands, what can be done, its history."""
    number = _number(request)
    services = request.app[CONSOLE].services
    context = await in_session(services.engine, _detail, number, services.clock())
    return render(request, viewer, "admin/suggestions_detail.html", base=BASE, **context,
                  handler_days=services.handler_days, **_choices())


@page(Role.SECRETARY)
async def change_status_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Move a suggestion with a reply; points on adoption; then the group is told."""
    number = _number(request)
    data = await form(request)
    console = request.app[CONSOLE]
    to_text = field_text(data, "status", 20)
    if to_text not in {s.value for s in SuggestionStatus}:
        raise redirect(f"{BASE}/{number}", texts.ADMIN_SUG_PICK_STATUS, error=True)
    to = SuggestionStatus(to_text)
    actor_id, actor_name = actor(viewer)
    try:
        def move(db: Session) -> tuple[Suggestion, Group | None]:
            row = move_suggestion(db, number, to, rules=console.services.rules,
                                  actor_id=actor_id, actor_name=actor_name,
                                  reply=field_text(data, "reply"))
            return row, db.get(Group, row.group_id)

        row, group = await in_session(console.services.engine, move)
    except SuggestionError as exc:
        raise redirect(f"{BASE}/{number}", str(exc), error=True) from exc
    flash = texts.ADMIN_SUG_STATUS_DONE.format(number=number, status=STATUS_LABELS[to])
    if group is not None:
        try:
            await notify_status_change(console.services.outbox, group, row)
        except AdapterError as exc:
            log.warning("suggestion %s: telling group %s failed: %s", number, group.id, exc)
            flash = texts.ADMIN_SUG_NOT_TOLD.format(number=number, status=STATUS_LABELS[to])
    raise redirect(f"{BASE}/{number}", flash)


Edit = Callable[[Session, int, str, Viewer], object]


Action = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _edit_action(field: str, edit: Edit, done: str) -> Action:
    @page(Role.SECRETARY)
    async def action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
        number = _number(request)
        data = await form(request)
        try:
            await in_session(request.app[CONSOLE].services.engine, edit, number,
                             field_text(data, field), viewer)
        except SuggestionError as exc:
            raise redirect(f"{BASE}/{number}", str(exc), error=True) from exc
        raise redirect(f"{BASE}/{number}", done.format(number=number))

    return action


def _set_category(db: Session, number: int, value: str, viewer: Viewer) -> object:
    return set_category(db, number, value)


def _set_text(db: Session, number: int, value: str, viewer: Viewer) -> object:
    if get_suggestion(db, number).machine_text:  # a correction of the machine's words
        actor_id, actor_name = actor(viewer)
        return settle_machine_text(db, number, text=value, actor_id=actor_id,
                                   actor_name=actor_name, now=utcnow())
    return set_text(db, number, value)


def _confirm_transcript(db: Session, number: int, value: str, viewer: Viewer) -> object:
    actor_id, actor_name = actor(viewer)
    return settle_machine_text(db, number, text=None, actor_id=actor_id, actor_name=actor_name,
                               now=utcnow())


def _set_hamlet(db: Session, number: int, value: str, viewer: Viewer) -> object:
    actor_id, actor_name = actor(viewer)
    return set_suggestion_hamlet(db, number, value, actor_id=actor_id, actor_name=actor_name)


def _merge(db: Session, number: int, value: str, viewer: Viewer) -> object:
    value = value.strip().lstrip("第").rstrip("号").strip()
    if not value.isdigit() or len(value) > 9:
        raise SuggestionError(texts.ADMIN_SUG_MERGE_NUMBER)
    actor_id, actor_name = actor(viewer)
    return merge_suggestion(db, number, int(value), actor_id=actor_id, actor_name=actor_name)


def _unmerge(db: Session, number: int, value: str, viewer: Viewer) -> object:
    actor_id, actor_name = actor(viewer)
    return unmerge_suggestion(db, number, actor_id=actor_id, actor_name=actor_name)


def routes(router: web.UrlDispatcher) -> None:
    """Register the board's pages and actions."""
    router.add_get(BASE, board_page)
    router.add_get(BASE + "/{number}", detail_page)
    router.add_post(BASE + "/{number}/status", change_status_action)
    router.add_post(BASE + "/{number}/category",
                    _edit_action("category", _set_category, texts.ADMIN_SUG_CATEGORY_DONE))
    router.add_post(BASE + "/{number}/text",
                    _edit_action("text", _set_text, texts.ADMIN_SUG_TEXT_DONE))
    router.add_post(BASE + "/{number}/transcript",
                    _edit_action("", _confirm_transcript, texts.ADMIN_TRANSCRIPT_CONFIRMED))
    router.add_post(BASE + "/{number}/hamlet",
                    _edit_action("hamlet", _set_hamlet, texts.ADMIN_SUG_HAMLET_DONE))
    router.add_post(BASE + "/{number}/merge",
                    _edit_action("into", _merge, texts.ADMIN_SUG_MERGE_DONE))
    router.add_post(BASE + "/{number}/unmerge",
                    _edit_action("", _unmerge, texts.ADMIN_SUG_UNMERGE_DONE))
