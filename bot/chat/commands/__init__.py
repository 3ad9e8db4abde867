"""All chat commands in one router: the app calls `build_router` and hands `handle` to adapters."""

from __future__ import annotations

from bot import texts
from bot.chat.commands import attendance as commands_attendance
from bot.chat.commands import awards as commands_awards
from bot.chat.commands import handling as commands_handling
from bot.chat.commands import lessons as commands_lessons
from bot.chat.commands import shop as commands_shop
from bot.chat.commands import suggestions as commands_suggestions
from bot.chat.commands import talks as commands_talks
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.roles import ROLE_RANK
from bot.domain.ledger import ledger_key, ledger_url
from bot.domain.rankings import MyPoints, my_points
from bot.domain.services import Services


def help_text(router: Router, ctx: Context) -> str:
    """The commands the sender may use, with one line each; more for facilitators and above."""
    lines = [texts.CMD_HELP_HEADING, texts.CMD_HELP_RAISE, texts.CMD_HELP_LISTENED]
    for command in sorted(router.commands_for(ctx.role), key=lambda c: ROLE_RANK[c.role]):
        if command.summary:
            lines.append(texts.CMD_HELP_LINE.format(name=command.names[0],
                                                    summary=command.summary))
    lines.append(texts.CMD_HELP_FOOTER)
    return "\n".join(lines)


def points_text(name: str, mine: MyPoints) -> tuple[str, str]:
    """The answer to /积分 (balance, this month's rank, the household's, the last changes) and
    its one-line form for a group where nothing can be said privately."""
    if mine.balance == 0 and mine.rank is None and not mine.changes:
        text = texts.CMD_POINTS_NONE.format(name=name)
        return text, text
    lines = [texts.MY_POINTS_BALANCE.format(name=name, points=mine.balance)]
    lines.append(texts.MY_POINTS_RANK.format(rank=mine.rank.rank, people=mine.people)
                 if mine.rank else texts.MY_POINTS_NO_RANK)
    if mine.household:
        lines.append(texts.MY_POINTS_HOUSEHOLD.format(household=mine.household.name,
                                                      rank=mine.household.rank,
                                                      households=mine.households))
    if mine.changes:
        lines.append(texts.MY_POINTS_RECENT)
        lines += [(texts.MY_POINTS_GAIN if c.points >= 0 else texts.MY_POINTS_LOSS).format(
            month=c.when.month, day=c.when.day, what=c.what, points=abs(c.points))
            for c in mine.changes]
    rank = texts.MY_POINTS_SHORT_RANK.format(rank=mine.rank.rank) if mine.rank else ""
    return "\n".join(lines), texts.MY_POINTS_SHORT.format(name=name, points=mine.balance,
                                                           rank=rank)


def build_router(services: Services) -> Router:
    """A router with every chat command and text handler registered."""
    router = Router(services)
    commands_talks.register_confirmation(router)  # a facilitator's 确认 is no chat to capture
    commands_lessons.register(router)  # 「已听」 before the night-talk reply handler
    commands_attendance.register(router)  # 「到」 answering the opening note is no suggestion
    commands_suggestions.register(router)
    commands_handling.register(router)
    commands_awards.register(router)
    commands_shop.register(router)
    commands_talks.register(router)

    @router.command(("积分", "points"), summary=texts.CMD_HELP_POINTS)
    async def points(ctx: Context, args: str) -> None:
        mine = await in_session(ctx.engine, lambda db: my_points(
            db, ctx.group, ctx.message.user_id, ctx.now()))
        text, short = points_text(ctx.name, mine)
        await ctx.tell(text, short=short)

    @router.command(("台账", "ledger"), summary=texts.CMD_HELP_LEDGER)
    async def ledger(ctx: Context, args: str) -> None:
        key = await in_session(ctx.engine, lambda db: ledger_key(db, ctx.group))
        await ctx.reply(texts.LEDGER_LINK.format(url=ledger_url(services.public_url, key)))

    @router.command(("帮助", "help", "start"), summary=texts.CMD_HELP_HELP)
    async def help_(ctx: Context, args: str) -> None:
        await ctx.reply(help_text(router, ctx))

    return router
