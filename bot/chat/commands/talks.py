"""Chat commands for night talks: schedule and confirm one, when is the next, open, close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel import Session

from bot import texts
from bot.chat.phrasing import bare_word
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.models import NightTalk, NightTalkStatus, Role
from bot.domain.nighttalks import NightTalkError, next_talk, open_talk, when_text
from bot.domain.talk_drafts import (
    draft_night_talk,
    drop_drafts,
    latest_draft,
    understood_text,
)
from bot.domain.talk_series import repeat_note
from bot.domain.talk_texts import local_zone
from bot.domain.talk_time import TalkTimeError, TalkTimePast, read_talk_time, split_schedule_args

log = logging.getLogger(__name__)

CONFIRM_WORDS = ("确认", "确定")
DROP_WORDS = ("取消",)
BARE_LIMIT = 12


def talk_text(talk: NightTalk, timezone: str, now: datetime, repeats: str = "") -> str:
    """The answer to /夜话: when, where, topic and host of the next (or the open) night talk."""
    heading = texts.CMD_TALK_OPEN if talk.status is NightTalkStatus.OPEN else texts.CMD_TALK_NEXT
    when = when_text(talk.starts_at, timezone, now)
    if repeats:
        when += texts.TALK_REPEATS.format(rhythm=repeats)
    lines = [heading, texts.CMD_TALK_WHEN.format(when=when)]
    if talk.place:
        lines.append(texts.CMD_TALK_WHERE.format(place=talk.place))
    lines.append(texts.CMD_TALK_TOPIC.format(topic=talk.topic))
    if talk.host:
        lines.append(texts.CMD_TALK_HOST.format(host=talk.host))
    lines.append(texts.CMD_TALK_HOW_TO_SUGGEST)
    return "\n".join(lines)


async def _confirm(ctx: Context, talk: NightTalk) -> None:
    """Schedule the facilitator's draft and announce it to the group."""
    assert talk.id is not None
    try:
        await ctx.services.talks.confirm(talk.id, now=ctx.now())
    except NightTalkError as exc:
        await ctx.tell(str(exc))
        return
    await ctx.services.scheduler.rearm()
    log.info("night talk %s confirmed by %s", talk.id, ctx.message.user_id)
    repeats = await in_session(ctx.engine, repeat_note, talk)
    await ctx.tell(texts.TALK_CONFIRMED_SERIES.format(rhythm=repeats) if repeats
                   else texts.TALK_CONFIRMED)


async def _waiting(ctx: Context) -> NightTalk | None:
    return await in_session(ctx.engine, latest_draft, ctx.group_id, ctx.message.user_id,
                            ctx.now())


def register_confirmation(router: Router) -> None:
    """The facilitator's bare 「确认」 or 「取消」 while a night talk awaits it; registered before
    the other text handlers, which would take 确认 for chat."""

    @router.text
    async def answer(ctx: Context) -> bool:
        text = ctx.message.text
        if len(text) > BARE_LIMIT:  # 「确认！」 at most: longer chat need not be looked at
            return False
        word = bare_word(text)
        if word not in CONFIRM_WORDS + DROP_WORDS:
            return False
        # Only the sender's own draft counts, and only a facilitator could make one; the role
        # is not asked again (platforms look it up for slash commands only).
        talk = await _waiting(ctx)
        if talk is None:
            return False  # nothing of theirs awaits: an ordinary 确认 in the chat
        if word in CONFIRM_WORDS:
            await _confirm(ctx, talk)
        else:
            await in_session(ctx.engine, drop_drafts, ctx.group_id, ctx.message.user_id,
                             ctx.now())
            await ctx.tell(texts.TALK_DROPPED)
        return True


async def _draft(ctx: Context, args: str) -> None:
    """Read the time and keep the talk until the facilitator confirms what the bot understood."""
    when, topic, place, host = split_schedule_args(args)
    if not when or not topic:
        await ctx.reply(texts.CMD_USAGE_SCHEDULE_TALK)
        return
    timezone = ctx.group.timezone
    try:
        # jionlp loads on the first time read; off the loop, so other chats are not held up.
        read = await asyncio.to_thread(read_talk_time, when, local_zone(timezone), ctx.now())
    except TalkTimePast as exc:
        await ctx.tell(texts.TALK_PAST.format(when=when_text(exc.at, timezone, ctx.now())))
        return
    except TalkTimeError:
        bad = texts.TALK_BAD_REPEAT if when.startswith("每") else texts.CMD_TALK_BAD_TIME
        await ctx.tell(bad.format(when=when))
        return

    def draft(db: Session) -> str:
        talk = draft_night_talk(db, group=ctx.group, read=read, topic=topic,
                                place=place or ctx.group.hamlet, host=host or ctx.name,
                                created_by=ctx.message.user_id, now=ctx.now())
        log.info("night talk %s drafted by %s", talk.id, ctx.message.user_id)
        return understood_text(db, talk, ctx.group, ctx.now())

    try:
        understood = await in_session(ctx.engine, draft)
    except NightTalkError as exc:
        await ctx.tell(str(exc))
        return
    await ctx.ask(understood)


def register(router: Router) -> None:
    """Add /安排夜话, /确认, /取消夜话, /夜话, /开始夜话 and /结束夜话."""

    @router.command(("安排夜话", "schedule_talk"), role=Role.FACILITATOR,
                    summary=texts.CMD_HELP_SCHEDULE_TALK, usage=texts.CMD_USAGE_SCHEDULE_TALK)
    async def schedule(ctx: Context, args: str) -> None:
        await _draft(ctx, args)

    @router.command(("确认", "confirm"), role=Role.FACILITATOR, summary=texts.CMD_HELP_CONFIRM)
    async def confirm(ctx: Context, args: str) -> None:
        talk = await _waiting(ctx)
        if talk is None:
            await ctx.tell(texts.TALK_NOTHING_TO_CONFIRM)
        else:
            await _confirm(ctx, talk)

    @router.command(("取消夜话", "cancel_talk"), role=Role.FACILITATOR,
                    summary=texts.CMD_HELP_CANCEL_TALK)
    async def cancel(ctx: Context, args: str) -> None:
        talk = await in_session(ctx.engine, next_talk, ctx.group_id, ctx.now())
        if talk is None or talk.id is None or talk.status is not NightTalkStatus.SCHEDULED:
            await ctx.tell(texts.TALK_NOTHING_TO_CANCEL)
            return
        talks = ctx.services.talks
        if args.strip() in texts.TALK_ALL_WORDS and talk.series_id is not None:
            await talks.end_series(talk.series_id, now=ctx.now())
            await ctx.tell(texts.TALK_SERIES_ENDED)
        else:
            await _step(ctx, talks.cancel, talk.id)
            coming = await in_session(ctx.engine, next_talk, ctx.group_id, ctx.now())
            await ctx.tell(texts.TALK_CANCELLED_NEXT.format(
                when=when_text(coming.starts_at, ctx.group.timezone, ctx.now()))
                if talk.series_id is not None and coming is not None
                and coming.series_id == talk.series_id else texts.TALK_CANCELLED_ONE)
        await ctx.services.scheduler.rearm()

    @router.command(("夜话", "nighttalk"), summary=texts.CMD_HELP_TALK)
    async def show(ctx: Context, args: str) -> None:
        def read(db: Session) -> str:
            talk = next_talk(db, ctx.group_id, ctx.now())
            if talk is None:
                return texts.CMD_TALK_NONE
            return talk_text(talk, ctx.group.timezone, ctx.now(), repeat_note(db, talk))

        await ctx.reply(await in_session(ctx.engine, read))

    @router.command(("开始夜话", "open_talk"), role=Role.FACILITATOR,
                    summary=texts.CMD_HELP_OPEN)
    async def open_(ctx: Context, args: str) -> None:
        talk = await in_session(ctx.engine, next_talk, ctx.group_id, ctx.now())
        if talk is None or talk.id is None:
            await ctx.reply(texts.CMD_TALK_NOTHING_TO_OPEN)
        elif talk.status is NightTalkStatus.OPEN:
            await ctx.reply(texts.CMD_TALK_ALREADY_OPEN)
        else:
            await _step(ctx, ctx.services.talks.open, talk.id)

    @router.command(("结束夜话", "close_talk"), role=Role.FACILITATOR,
                    summary=texts.CMD_HELP_CLOSE)
    async def close(ctx: Context, args: str) -> None:
        talk = await in_session(ctx.engine, open_talk, ctx.group_id)
        if talk is None or talk.id is None:
            await ctx.reply(texts.CMD_TALK_NOTHING_TO_CLOSE)
        else:
            await _step(ctx, ctx.services.talks.close, talk.id)


async def _step(ctx: Context, step: Callable[..., Awaitable[NightTalk]], talk_id: int) -> None:
    """Open or close by hand: the host posts the opening note or the summary to the group."""
    try:
        await step(talk_id, now=ctx.now())
    except NightTalkError as exc:
        await ctx.reply(str(exc))
        return
    log.info("night talk %s: %s by %s", talk_id, step.__name__, ctx.message.user_id)
