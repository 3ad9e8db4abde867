"""Chat commands for points given by hand: /加分, /扣分 from the village's list, /撤销积分."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from bot import texts
from bot.chat.phrasing import MAX_NUMBER_DIGITS, parse_number
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Member, Role
from bot.domain.points_items import (
    Giver,
    PointsError,
    change_words,
    find_item,
    find_person,
    give,
    item_name,
    revoke,
    revoked_message,
    tell_member,
    told_message,
    village_entry,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AwardWords:
    """What follows /加分: who (as typed), the item's words, and the reason."""

    who: str
    item: str
    note: str


def parse_award(args: str) -> AwardWords | None:
    """`@张三 改厕 帮邻居修的` -> its parts; None when the person or the item is missing."""
    words = args.split(None, 2)
    if len(words) < 2:
        return None
    return AwardWords(words[0], words[1], words[2] if len(words) > 2 else "")


def _person(db: Session, ctx: Context, who: str) -> Member:
    # A platform mention names the person by id; the typed name is only its label then.
    mentioned = ctx.message.mentions[0] if ctx.message.mentions else None
    return find_person(db, ctx.group_id, mentioned or who)


async def award_in_chat(ctx: Context, args: str, *, deduct: bool) -> None:
    """Give (or take) points for an item of the village's list to the member named."""
    usage = texts.POINTS_USAGE_DEDUCT if deduct else texts.POINTS_USAGE_AWARD
    asked = parse_award(args)
    if asked is None:
        await ctx.reply(usage)
        return
    giver = Giver(ctx.message.user_id, ctx.name, ctx.role)

    def award(db: Session) -> tuple[OutgoingText, str]:
        member = _person(db, ctx, asked.who)
        item = find_item(db, ctx.group, asked.item, ctx.services.rules)
        if deduct != (item.points < 0):
            wrong = texts.POINTS_WRONG_SIGN_DEDUCT if deduct else texts.POINTS_WRONG_SIGN_AWARD
            raise PointsError(wrong.format(item=item.name))
        # The photo comes with the command, or the command answers the photo's message.
        photo_seen = ctx.message.photo is not None or ctx.message.reply_to is not None
        entry = give(db, ctx.group, item, member, giver, note=asked.note,
                     photo_seen=photo_seen, now=ctx.now())
        return told_message(entry, item.name), texts.POINTS_GIVEN.format(
            name=member.display_name, item=item.name, change=change_words(entry.points),
            number=entry.id)

    try:
        told, answer = await in_session(ctx.engine, award)
    except PointsError as exc:
        await ctx.tell(str(exc))  # nothing stored: the awarder says it again, better
        return
    await tell_member(ctx.outbox, ctx.group, told)
    await ctx.tell(answer)


def register(router: Router) -> None:
    """Add /加分, /扣分 and /撤销积分."""

    @router.command(("加分", "award"), role=Role.FACILITATOR, summary=texts.POINTS_HELP_AWARD,
                    usage=texts.POINTS_USAGE_AWARD)
    async def award_command(ctx: Context, args: str) -> None:
        await award_in_chat(ctx, args, deduct=False)

    @router.command(("扣分", "deduct"), role=Role.FACILITATOR, summary=texts.POINTS_HELP_DEDUCT,
                    usage=texts.POINTS_USAGE_DEDUCT)
    async def deduct_command(ctx: Context, args: str) -> None:
        await award_in_chat(ctx, args, deduct=True)

    @router.command(("撤销积分", "revoke"), role=Role.SECRETARY,
                    summary=texts.POINTS_HELP_REVOKE, usage=texts.POINTS_USAGE_REVOKE)
    async def revoke_command(ctx: Context, args: str) -> None:
        parsed = parse_number(args)
        if parsed is None or len(str(parsed[0])) > MAX_NUMBER_DIGITS:
            await ctx.reply(texts.POINTS_USAGE_REVOKE)
            return
        number, reason = parsed

        def take_back(db: Session) -> tuple[OutgoingText, str]:
            entry = revoke(db, village_entry(db, number, ctx.group), by_name=ctx.name,
                           reason=reason, now=ctx.now())
            name = item_name(db, entry)
            return revoked_message(entry, name), texts.POINTS_REVOKED.format(
                number=number, name=entry.user_name, item=name, change=change_words(entry.points))

        try:
            told, answer = await in_session(ctx.engine, take_back)
        except PointsError as exc:
            await ctx.tell(str(exc))
            return
        await tell_member(ctx.outbox, ctx.group, told)
        await ctx.tell(answer)
