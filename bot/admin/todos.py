"""Console pages for handlers: assign a suggestion, and the to-do list by handler (待办)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlmodel import Session, select

from bot import texts
from bot.admin.core import CONSOLE, Viewer, field_text, form, page, redirect, render, whole_number
from bot.admin.suggestions import BASE, actor
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.models import Group, Role
from bot.domain.board import groups
from bot.domain.handling import (
    assign,
    default_due,
    due_end,
    due_text,
    find_handler,
    is_overdue,
    open_assigned,
    tell_handler,
)
from bot.domain.suggestions import SuggestionError, get_suggestion
from bot.domain.talk_texts import local_zone
from bot.domain.talk_time import TalkTimeError, TalkTimePast, read_day

log = logging.getLogger(__name__)

TODOS = "/admin/todos"
MAX_NUMBER = 2**63 - 1


def todo_rows(db: Session, group_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """Open assigned items with their handler, deadline and overdue mark, grouped by handler."""
    zones = {g.id: g for g in db.exec(select(Group))}
    items = []
    for row in open_assigned(db, group_id=group_id):
        group = zones.get(row.group_id)
        timezone = group.timezone if group else "Asia/Shanghai"
        items.append({"number": row.id, "text": row.text, "group": group.name if group else "",
                      "handler": row.handler_name or "", "role": row.handler_role or "",
                      "phone": row.handler_phone or "", "due": due_text(row.due_at, timezone),
                      "overdue": is_overdue(row, now)})
    items.sort(key=lambda item: (item["handler"], not item["overdue"]))
    return items


@page(Role.SECRETARY)
async def todos_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Every open assigned item by handler, overdue ones marked; filterable by group."""
    console = request.app[CONSOLE]
    group_id = whole_number(request.query.get("group"))
    now = console.services.clock()

    def read(db: Session) -> tuple[list[dict[str, Any]], list[Group]]:
        return todo_rows(db, group_id, now), groups(db)

    rows, group_list = await in_session(console.services.engine, read)
    by_handler: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_handler.setdefault(row["handler"], []).append(row)
    return render(request, viewer, "admin/todos.html", handlers=by_handler, groups=group_list,
                  group_id=group_id, base=BASE, todos=TODOS)


async def _deadline(words: str, timezone: str, now: datetime, days: int) -> datetime:
    if not words:
        return default_due(now, days, timezone)
    try:
        day = await asyncio.to_thread(read_day, words, local_zone(timezone), now)
    except TalkTimePast as exc:
        raise SuggestionError(texts.HANDLING_PAST_DEADLINE.format(words=words)) from exc
    except TalkTimeError as exc:
        raise SuggestionError(texts.HANDLING_BAD_DEADLINE.format(words=words)) from exc
    return due_end(day, timezone)


@page(Role.SECRETARY)
async def assign_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Give an adopted suggestion to a handler with a deadline; the handler is told."""
    number = whole_number(request.match_info["number"])
    if number is None or number > MAX_NUMBER:
        raise web.HTTPNotFound(text=texts.ADMIN_SUG_NOT_FOUND)
    data = await form(request)
    console = request.app[CONSOLE]
    engine, now = console.services.engine, console.services.clock()
    actor_id, actor_name = actor(viewer)
    back = f"{BASE}/{number}"
    try:
        group = await in_session(engine, lambda db: db.get(
            Group, get_suggestion(db, number).group_id))
        if group is None or group.id is None:
            raise SuggestionError(texts.SUGGESTION_NOT_FOUND.format(number=number))
        handler = await in_session(engine, find_handler, group.id,
                                   field_text(data, "handler", 60),
                                   phone=field_text(data, "phone", 30),
                                   role=field_text(data, "role", 30))
        due_at = await _deadline(field_text(data, "due", 30), group.timezone, now,
                                 console.services.handler_days)
        row, _before = await in_session(engine, assign, number, handler, due_at=due_at,
                                         actor_id=actor_id, actor_name=actor_name, now=now)
    except SuggestionError as exc:
        raise redirect(back, str(exc), error=True) from exc
    await console.services.scheduler.rearm()
    flash = texts.ADMIN_SUG_ASSIGN_DONE.format(number=number, name=handler.name,
                                               due=due_text(due_at, group.timezone))
    if row.handler_phone:
        flash += " " + texts.HANDLING_PHONE_ONLY.format(name=handler.name,
                                                       phone=row.handler_phone)
    try:
        await tell_handler(console.services.outbox, group, row)
    except AdapterError as exc:
        log.warning("suggestion %s: telling its handler failed: %s", number, exc)
        flash = texts.ADMIN_SUG_ASSIGN_NOT_TOLD.format(number=number, name=handler.name)
    raise redirect(back, flash)


def routes(router: web.UrlDispatcher) -> None:
    """Register the to-do page and the assign action."""
    router.add_get(TODOS, todos_page)
    router.add_post(BASE + "/{number}/assign", assign_action)
