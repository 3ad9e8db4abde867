"""Attendance at a night talk: members' 「到」「签到」, and the facilitator's /到场."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot import texts
from bot.chat.phrasing import bare_word
from bot.chat.router import Context, Router
from bot.core.db import in_session
from bot.core.models import Role
from bot.domain.attendance import (
    AttendanceError,
    Participants,
    add_named,
    check_in,
    participants,
    participants_line,
    read_in_person,
    set_walk_ins,
)
from bot.domain.nighttalks import open_talk

log = logging.getLogger(__name__)

CHECK_IN_WORDS = frozenset({"到", "签到", "到了", "已到", "已签到"})
# 「签到！！」 at most: every message passes here, and longer chat need not be looked at.
_CHECK_IN_CHARS = 8


async def take_check_in(ctx: Context) -> bool:
    """A bare 「到」「签到」「到了」 while the night talk is open counts its sender present.

    Outside a talk it is ordinary chat and is left alone. Nothing goes to the group: the member
    is thanked privately where the platform can, else not at all.
    """
    text = ctx.message.text
    if len(text) > _CHECK_IN_CHARS or ctx.message.voice is not None:
        return False
    if bare_word(text) not in CHECK_IN_WORDS:
        return False

    def mark(db: Session) -> bool | None:
        talk = open_talk(db, ctx.group_id)
        if talk is None or talk.id is None:
            return None
        return check_in(db, talk.id, ctx.message.user_id, ctx.name, now=ctx.now())

    counted = await in_session(ctx.engine, mark)
    if counted is None:
        return False
    log.info("%s checked in to the open talk of group %s", ctx.message.user_id, ctx.group_id)
    await ctx.tell((texts.ATTEND_CHECKED_IN if counted else texts.ATTEND_ALREADY).format(
        name=ctx.name), in_group=False)
    return True


def attend_answer(counted: Participants, added: list[str] | None, walk_ins: int | None) -> str:
    """What the facilitator is told after /到场: what was noted, then the count so far."""
    if walk_ins is not None:
        head = texts.ATTEND_WALK_INS_SET.format(n=walk_ins)
    elif added:
        head = texts.ATTEND_NAMES_ADDED.format(names="、".join(added))
    else:
        head = texts.ATTEND_NAMES_KNOWN
    return head + "\n" + (participants_line(counted) or texts.ATTEND_NOBODY_YET)


def register(router: Router) -> None:
    """Add the check-in handler and /到场 (before the handlers that take replies to a talk,
    so a 「到」 answering the opening note is a check-in, not a suggestion)."""
    router.text(take_check_in)

    @router.command(("到场", "attend"), role=Role.FACILITATOR, summary=texts.CMD_HELP_ATTEND,
                    usage=texts.CMD_USAGE_ATTEND)
    async def attend(ctx: Context, args: str) -> None:
        if not args.strip():
            await ctx.reply(texts.CMD_USAGE_ATTEND)
            return
        try:
            said = read_in_person(args)
        except AttendanceError as exc:
            await ctx.tell(str(exc))
            return

        def record(db: Session) -> str | None:
            talk = open_talk(db, ctx.group_id)
            if talk is None:
                return None
            if isinstance(said, int):
                set_walk_ins(db, talk, said)
                return attend_answer(participants(db, talk), None, said)
            added = add_named(db, talk, said, now=ctx.now())
            return attend_answer(participants(db, talk), added, None)

        answer = await in_session(ctx.engine, record)
        if answer is None:
            await ctx.tell(texts.ATTEND_NO_TALK)
            return
        # In the group (where nothing goes privately) one line: the count so far.
        await ctx.tell(answer, short=texts.ATTEND_SHORT.format(line=answer.splitlines()[-1]))
