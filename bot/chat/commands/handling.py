"""Chat commands for handlers: assign an adopted suggestion (/交办, /采纳 … 交给 …), my to-dos."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from bot import texts
from bot.chat.phrasing import MAX_NUMBER_DIGITS, parse_number
from bot.chat.router import Context, Router
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.models import Role, Suggestion
from bot.domain.handling import (
    Handler,
    assign,
    assigned_answer,
    default_due,
    due_end,
    find_handler,
    handled_by,
    open_assigned,
    tell_handler,
    todo_line,
    todo_text,
)
from bot.domain.suggestions import SuggestionError
from bot.domain.talk_texts import local_zone
from bot.domain.talk_time import TalkTimeError, TalkTimePast, looks_like_day, read_day

log = logging.getLogger(__name__)

# 「交给 李伯 …」 after an adoption's number: the rest names the handler, then the reply.
_HAND_OVER = re.compile(r"\s*(?:交给|交办给|交办|交由)\s*(.*)", re.DOTALL)
_WORD = re.compile(r"\s*(\S+)")
_ROLE_IN = re.compile(r"(.+?)[（(]([^）)]{1,20})[）)]")
_ROLE_ALONE = re.compile(r"[（(]([^）)]{1,20})[）)]")
_PHONE = re.compile(r"\+?\d[\d\-]{6,18}")
_BEFORE = ("前", "之前", "以前")


@dataclass(frozen=True)
class Assignment:
    """What a secretary typed: who, their role and phone, the deadline's words, and the rest."""

    who: str
    role: str = ""
    phone: str = ""
    when: str = ""
    rest: str = ""


def hand_over(text: str) -> str | None:
    """The words after 「交给」 in an adoption's reply, or None if it hands nothing over."""
    match = _HAND_OVER.fullmatch(text)
    return match.group(1) if match else None


def parse_assignment(text: str) -> Assignment | None:
    """`李伯（网格员） 13800001111 下周五前 回复…` -> its parts; None without a name."""
    pos = 0

    def peek() -> re.Match[str] | None:
        return _WORD.match(text, pos)

    first = peek()
    if first is None:
        return None
    who, role, pos = first.group(1), "", first.end()
    inner = _ROLE_IN.fullmatch(who)
    if inner is not None:
        who, role = inner.group(1), inner.group(2)
    elif (word := peek()) is not None and (alone := _ROLE_ALONE.fullmatch(word.group(1))):
        role, pos = alone.group(1), word.end()
    phone = when = ""
    if (word := peek()) is not None and _PHONE.fullmatch(word.group(1)):
        phone, pos = word.group(1), word.end()
    if (word := peek()) is not None and looks_like_day(word.group(1)):
        when, pos = word.group(1), word.end()
        if (tail := peek()) is not None and tail.group(1) in _BEFORE:
            pos = tail.end()
    return Assignment(who.lstrip("@＠"), role, phone, when, text[pos:].strip())


async def read_deadline(ctx: Context, words: str) -> datetime:
    """The deadline the words give (or the default), in UTC; SuggestionError if unclear/past."""
    timezone = ctx.group.timezone
    if not words:
        return default_due(ctx.now(), ctx.services.handler_days, timezone)
    try:
        day = await asyncio.to_thread(read_day, words, local_zone(timezone), ctx.now())
    except TalkTimePast as exc:
        raise SuggestionError(texts.HANDLING_PAST_DEADLINE.format(words=words)) from exc
    except TalkTimeError as exc:
        raise SuggestionError(texts.HANDLING_BAD_DEADLINE.format(words=words)) from exc
    return due_end(day, timezone)


async def resolve(ctx: Context, asked: Assignment) -> tuple[Handler, datetime]:
    """The handler and the deadline an assignment names; SuggestionError to ask again."""
    handler = await in_session(ctx.engine, find_handler, ctx.group_id, asked.who,
                               phone=asked.phone, role=asked.role)
    return handler, await read_deadline(ctx, asked.when)


def assign_in(db: Session, ctx: Context, number: int, handler: Handler, due_at: datetime
              ) -> tuple[Suggestion, str | None]:
    """`assign` as the sender, in the sender's group."""
    return assign(db, number, handler, due_at=due_at, actor_id=ctx.message.user_id,
                  actor_name=ctx.name, group_id=ctx.group_id, now=ctx.now())


async def announce(ctx: Context, suggestion: Suggestion, before: str | None) -> None:
    """Tell the handler (privately where the platform can) and the secretary who was told."""
    try:
        await tell_handler(ctx.outbox, ctx.group, suggestion)
    except AdapterError as exc:
        log.warning("suggestion %s: telling its handler failed: %s", suggestion.id, exc)
    await ctx.services.scheduler.rearm()  # the group's digest may be newly armed
    await ctx.tell(assigned_answer(suggestion, before, ctx.group.timezone))


async def handler_admits(ctx: Context, args: str) -> bool:
    """A member may move (办理, 办结) an item given to them, and no other."""
    parsed = parse_number(args)
    if parsed is None or len(str(parsed[0])) > MAX_NUMBER_DIGITS:
        return False
    return await in_session(ctx.engine, handled_by, parsed[0], ctx.message.user_id,
                            group_id=ctx.group_id)


def register(router: Router) -> None:
    """Add /交办 and /我的待办."""

    @router.command(("交办", "assign"), role=Role.SECRETARY,
                    summary=texts.CMD_HELP_ASSIGN.format(days=router.services.handler_days),
                    usage=texts.CMD_USAGE_ASSIGN)
    async def assign_command(ctx: Context, args: str) -> None:
        parsed = parse_number(args)
        asked = parse_assignment(parsed[1]) if parsed is not None else None
        if parsed is None or asked is None or len(str(parsed[0])) > MAX_NUMBER_DIGITS:
            await ctx.reply(texts.CMD_USAGE_ASSIGN)
            return
        if asked.rest:  # /交办 carries no reply: what follows the handler is the deadline
            asked = replace(asked, when=f"{asked.when} {asked.rest}".strip(), rest="")
        try:
            handler, due_at = await resolve(ctx, asked)
            suggestion, before = await in_session(ctx.engine, assign_in, ctx, parsed[0],
                                                  handler, due_at)
        except SuggestionError as exc:
            await ctx.tell(str(exc))
            return
        await announce(ctx, suggestion, before)

    @router.command(("我的待办", "todo"), summary=texts.CMD_HELP_TODO)
    async def todo(ctx: Context, args: str) -> None:
        rows = await in_session(ctx.engine, open_assigned, group_id=ctx.group_id,
                                handler_user_id=ctx.message.user_id)
        now = ctx.now()
        await ctx.tell(todo_text(rows, ctx.group.timezone, now), short=todo_line(rows, now))
