"""Chat commands for lessons: hear the latest again, list recent ones, 「已听」 for points."""

from __future__ import annotations

import dataclasses
import logging
import re
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import texts
from bot.chat.commands.caps import first_time_today, web_allowance
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import LessonRecord
from bot.domain.points import LISTEN, award
from bot.domain.points_items import builtin_value
from bot.domain.tallies import note_listen
from scheduler.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

RECENT_LIMIT = 5
# 「已听」「听完了」「学习了」 on their own, perhaps with a full stop or an exclamation mark.
_LISTENED = re.compile(r"\s*(?:已听|已听完|听完了|学习了|已学习)\s*[。！!.~～]*\s*")


def delivered(db: Session, group_id: int, limit: int) -> list[Delivery]:
    """Lessons posted to the group, newest first."""
    query = (select(Delivery)
             .where(Delivery.group_id == group_id, Delivery.status == DeliveryStatus.SENT)
             .order_by(col(Delivery.sent_at).desc(), col(Delivery.id).desc())
             .limit(limit))
    return list(db.exec(query))


def latest_delivery(db: Session, group_id: int) -> Delivery | None:
    """The lesson posted to the group most recently, if any."""
    rows = delivered(db, group_id, 1)
    return rows[0] if rows else None


def recent_lessons_text(db: Session, group_id: int, timezone: str) -> str:
    """The answer to /课程: recent lessons with their dates, newest first."""
    rows, seen = [], set()
    for delivery in delivered(db, group_id, RECENT_LIMIT * 4):
        if delivery.lesson_slug not in seen:
            seen.add(delivery.lesson_slug)
            rows.append(delivery)
    if not rows:
        return texts.CMD_LESSONS_NONE
    titles = {r.slug: r.title for r in db.exec(select(LessonRecord).where(
        col(LessonRecord.slug).in_(seen)))}
    zone = ZoneInfo(timezone)
    lines = [texts.CMD_LESSONS_HEADING]
    for n, delivery in enumerate(rows[:RECENT_LIMIT], start=1):
        when = (delivery.sent_at or delivery.occurrence).astimezone(zone)
        lines.append(texts.CMD_LESSONS_LINE.format(
            n=n, month=when.month, day=when.day,
            title=titles.get(delivery.lesson_slug, delivery.lesson_slug)))
    lines.append(texts.CMD_LESSONS_FOOTER)
    return "\n".join(lines)


def register(router: Router) -> None:
    """Add /重听, /课程 and the 「已听」 handler."""

    @router.command(("重听", "replay"), summary=texts.CMD_HELP_REPLAY)
    async def replay(ctx: Context, args: str) -> None:
        latest = await in_session(ctx.engine, latest_delivery, ctx.group_id)
        if latest is None:
            await ctx.reply(texts.CMD_LESSONS_NONE)
            return
        messages = await ctx.services.poster.lesson_messages(ctx.group, latest.lesson_slug)
        if messages is None:
            await ctx.reply(texts.CMD_REPLAY_GONE)
            return
        first = messages[0]
        if isinstance(first, OutgoingText):
            messages[0] = dataclasses.replace(first, reply_to=ctx.message.message_id)
        if len(messages) == 1:
            messages.append(OutgoingText(texts.CMD_REPLAY_NO_VOICE))
        await ctx.outbox.send(ctx.message.platform, ctx.message.chat_id, messages)

    @router.command(("课程", "lessons"), summary=texts.CMD_HELP_LESSONS)
    async def lessons(ctx: Context, args: str) -> None:
        answer = await in_session(ctx.engine, recent_lessons_text, ctx.group_id,
                                  ctx.group.timezone)
        await ctx.reply(answer)

    @router.text
    async def listened(ctx: Context) -> bool:
        if not _LISTENED.fullmatch(ctx.message.text):
            return False
        left = await web_allowance(ctx)
        if left is not None and left.points == 0:  # today's points are used up: nothing to award
            if first_time_today(ctx, left, "points"):
                await ctx.tell(texts.LIMIT_POINTS_TODAY.format(
                    limit=ctx.services.webchat_caps.points_per_day))
            return True

        def listen(db: Session) -> tuple[int, bool]:
            """The points earned (0 for none), and whether a tally timer was armed."""
            latest = latest_delivery(db, ctx.group_id)
            if latest is None or latest.id is None:
                return 0, False
            item_id, points = builtin_value(db, ctx.group_id, LISTEN, ctx.services.rules)
            if left is not None and left.points is not None:
                points = min(points, left.points)
            if not award(db, group_id=ctx.group_id, user_id=ctx.message.user_id,
                         user_name=ctx.name, reason=LISTEN, ref=str(latest.id), points=points,
                         now=ctx.now(), item_id=item_id):
                return 0, False
            # The group hears a tally now and then, not one message per listener.
            return points, note_listen(db, ctx.group_id, latest.id, ctx.now())

        points, armed = await in_session(ctx.engine, listen)
        earned = points > 0
        if armed:
            await ctx.services.scheduler.rearm()
        if earned:  # a private thank-you where the platform has one, nothing in the group
            await ctx.tell(texts.QUIET_LISTEN_NOTED.format(name=ctx.name, points=points),
                           in_group=False)
        return True
