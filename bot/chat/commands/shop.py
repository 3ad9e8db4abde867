"""Chat command for the points shop: a secretary records a redemption (/兑换)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from bot import texts
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.models import Role
from bot.domain.handling import find_member_handler
from bot.domain.shop import Receipt, ShopError, redeem
from bot.domain.shop_receipts import receipt_message
from bot.domain.suggestions import SuggestionError

# The last word may be how many: 2, ×2, 2件.
_QUANTITY = re.compile(r"[x×X＊*]?(\d{1,3})(?:件|个|份|袋|瓶|包|盒|斤)?")


@dataclass(frozen=True)
class Asked:
    """What `/兑换 @王奶奶 洗衣粉 2` asks for."""

    who: str
    good: str
    quantity: int = 1


def parse_redemption(args: str) -> Asked | None:
    """`@王奶奶 洗衣粉 2` -> its parts; None without a member and a good."""
    words = args.split()
    if len(words) < 2:
        return None
    who, rest = words[0], words[1:]
    quantity = 1
    if len(rest) > 1 and (match := _QUANTITY.fullmatch(rest[-1])) is not None:
        quantity, rest = int(match.group(1)), rest[:-1]
    return Asked(who, " ".join(rest), quantity)


def _redeem_for(db: Session, ctx: Context, asked: Asked) -> Receipt:
    member = find_member_handler(db, ctx.group_id, asked.who, missing=texts.SHOP_WHO_MISSING,
                                 unknown=texts.SHOP_NO_SUCH_MEMBER,
                                 several=texts.SHOP_WHICH_MEMBER)
    assert member.user_id is not None, "a member found in the group has a user id"
    return redeem(db, ctx.group, user_id=member.user_id, user_name=member.name,
                  good_name=asked.good, quantity=asked.quantity, by_id=ctx.message.user_id,
                  by_name=ctx.name, now=ctx.now())


def register(router: Router) -> None:
    """Add /兑换."""

    @router.command(("兑换", "redeem"), role=Role.SECRETARY, summary=texts.CMD_HELP_REDEEM,
                    usage=texts.CMD_USAGE_REDEEM)
    async def redeem_command(ctx: Context, args: str) -> None:
        asked = parse_redemption(args)
        if asked is None:
            await ctx.tell(texts.CMD_USAGE_REDEEM)
            return
        try:
            receipt = await in_session(ctx.engine, _redeem_for, ctx, asked)
        except (ShopError, SuggestionError) as exc:
            await ctx.tell(str(exc))
            return
        # The member's receipt goes to them alone where the platform can.
        await ctx.post(receipt_message(receipt))
        await ctx.tell(receipt.confirmation())
