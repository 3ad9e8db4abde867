"""The web chat's daily caps as the chat applies them: what a web member may still earn today.

The rule and its counts live in the domain (bot.domain.limits); the chat decides what a
message is (a suggestion, a 「已听」), so it is here that a message over the cap is taken as
plain chat. Only the web chat is capped: anyone can make a web identity, while the other
platforms' accounts are vouched for by the platform and the group's own admins.
"""

from __future__ import annotations

from bot.chat.router import Context
from bot.core.db import in_session
from bot.core.models import Role
from bot.domain.limits import WEB, Allowance, allowance


async def web_allowance(ctx: Context) -> Allowance | None:
    """What the sender may still earn today; None when no cap applies to them."""
    if ctx.message.platform != WEB or ctx.role != Role.MEMBER:
        return None
    return await in_session(ctx.engine, allowance, ctx.group_id, ctx.group.timezone,
                            ctx.message.user_id, ctx.now(), ctx.services.webchat_caps)


def first_time_today(ctx: Context, left: Allowance, what: str) -> bool:
    """Whether to tell the sender about the cap `what`: once a day, not at every message."""
    return ctx.services.webchat_caps.tell_once(ctx.group_id, ctx.message.user_id, what,
                                               left.day)
