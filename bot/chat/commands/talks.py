"""Chat commands for night talks: when is the next one, open it, close it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import texts
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.models import NightTalk, NightTalkStatus, Role
from bot.domain.nighttalks import (
    NightTalkError,
    next_talk,
    open_talk,
    schedule_night_talk,
    when_text,
)
from bot.domain.talk_time import TalkTimeError, parse_talk_time, split_schedule_args

log = logging.getLogger(__name__)


def talk_text(talk: NightTalk, timezone: str, now: datetime) -> str:
    """The answer to /夜话: when, where, topic and host of the next (or the open) night talk."""
    heading = texts.CMD_TALK_OPEN if talk.status is NightTalkStatus.OPEN else texts.CMD_TALK_NEXT
    lines = [heading, texts.CMD_TALK_WHEN.format(when=when_text(talk.starts_at, timezone, now))]
    if talk.place:
        lines.append(texts.CMD_TALK_WHERE.format(place=talk.place))
    lines.append(texts.CMD_TALK_TOPIC.format(topic=talk.topic))
    if talk.host:
        lines.append(texts.CMD_TALK_HOST.format(host=talk.host))
    lines.append(texts.CMD_TALK_HOW_TO_SUGGEST)
    return "\n".join(lines)


def register(router: Router) -> None:
    """Add /夜话, /安排夜话, /开始夜话 and /结束夜话."""

    @router.command(("安排夜话", "schedule_talk"), role=Role.FACILITATOR,
                    summary=texts.CMD_HELP_SCHEDULE_TALK, usage=texts.CMD_USAGE_SCHEDULE_TALK)
    async def schedule(ctx: Context, args: str) -> None:
        when, topic, place, host = split_schedule_args(args)
        if not when or not topic:
            await ctx.reply(texts.CMD_USAGE_SCHEDULE_TALK)
            return
        try:
            starts_at = parse_talk_time(when, ZoneInfo(ctx.group.timezone), ctx.now())
            talk = await in_session(
                ctx.engine, schedule_night_talk, group=ctx.group, topic=topic,
                starts_at=starts_at, place=place or ctx.group.hamlet, host=host or ctx.name,
                created_by=ctx.message.user_id, now=ctx.now())
        except TalkTimeError:
            await ctx.reply(texts.CMD_TALK_BAD_TIME.format(when=when))
            return
        except NightTalkError as exc:
            await ctx.reply(str(exc))
            return
        assert talk.id is not None
        log.info("night talk %s scheduled by %s", talk.id, ctx.message.user_id)
        await ctx.services.talks.announce(talk.id, now=ctx.now())
        await ctx.services.scheduler.rearm()

    @router.command(("夜话", "nighttalk"), summary=texts.CMD_HELP_TALK)
    async def show(ctx: Context, args: str) -> None:
        talk = await in_session(ctx.engine, next_talk, ctx.group_id, ctx.now())
        await ctx.reply(talk_text(talk, ctx.group.timezone, ctx.now()) if talk
                        else texts.CMD_TALK_NONE)

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
