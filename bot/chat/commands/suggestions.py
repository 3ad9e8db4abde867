"""Chat commands for suggestions: raise, raise for someone, adopt/handle/finish/decline, mine."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from bot import texts
from bot.chat.commands.caps import first_time_today, web_allowance
from bot.chat.commands.handling import (
    announce,
    assign_in,
    hand_over,
    handler_admits,
    parse_assignment,
    resolve,
)
from bot.chat.commands.photos import (
    add_to_suggestion,
    add_with_status,
    attach,
    drop_thumb,
    has_picture,
    take_picture,
)
from bot.chat.phrasing import MAX_NUMBER_DIGITS, agrees, parse_number, suggestion_body
from bot.chat.router import CommandHandler, Context, Router
from bot.core.db import in_session
from bot.core.models import Hamlet, Member, Role, Suggestion, SuggestionStatus
from bot.domain.adoption import move_suggestion
from bot.domain.handling import Handler, may_handle
from bot.domain.nighttalks import open_talk
from bot.domain.notices import PROXY_PREFIX, notify_status_change
from bot.domain.pending_voices import drop_voices, hold_voice, waiting_voices
from bot.domain.photos import Picture
from bot.domain.points import SUGGEST
from bot.domain.points_items import current_builtin_value
from bot.domain.suggestions import (
    NUMBER,
    STATUS_LABELS,
    Raised,
    Receipt,
    SuggestionError,
    get_suggestion,
    prepare_suggestion,
    suggestions_by,
)
from bot.domain.transcripts import Transcripts
from bot.outbox.replies import receipts_from_rows

log = logging.getLogger(__name__)

MINE_LIMIT = 10

STATUS_COMMANDS: tuple[tuple[tuple[str, ...], SuggestionStatus, str, str], ...] = (
    (("采纳", "adopt"), SuggestionStatus.ADOPTED, texts.CMD_HELP_ADOPT, texts.CMD_USAGE_ADOPT),
    (("办理", "progress"), SuggestionStatus.IN_PROGRESS, texts.CMD_HELP_PROGRESS,
     texts.CMD_USAGE_PROGRESS),
    (("办结", "done"), SuggestionStatus.DONE, texts.CMD_HELP_DONE, texts.CMD_USAGE_DONE),
    # 暂不采纳 is its one name; 不采纳 still works for those used to it.
    (("暂不采纳", "不采纳", "decline"), SuggestionStatus.DECLINED, texts.CMD_HELP_DECLINE,
     texts.CMD_USAGE_DECLINE),
)


def raised_text(text: str) -> str | None:
    """What follows 「建议」「我建议」… in a message raising a suggestion, or None."""
    return suggestion_body(text)


async def raise_suggestion(ctx: Context, text: str, *, author: tuple[str, str] | None = None,
                           voice_path: str | None = None, hamlet: str | None = None
                           ) -> int | None:
    """Store a suggestion from this message (once), award points, answer with its number.

    The write joins the other messages arriving now in one transaction (bot.chat.ingest), and this
    returns only after it is committed, so the platform is never answered for a lost suggestion.
    """
    author_id, author_name = author or (ctx.message.user_id, ctx.name)
    raised_by = (ctx.message.user_id, ctx.name) if author else None
    if hamlet is None:
        # The sender's own 屋场, read with the sender (no query of its own); one raised for
        # someone else comes with theirs.
        hamlet = "" if author else ctx.hamlet
    left = await web_allowance(ctx)
    item_id, points = await current_builtin_value(ctx.engine, ctx.group_id, SUGGEST,
                                                   ctx.services.rules)
    if left is not None and left.suggestions == 0:  # over today's cap: it stays plain chat
        if first_time_today(ctx, left, "suggestions"):
            await ctx.tell(texts.LIMIT_SUGGESTIONS_TODAY.format(
                limit=ctx.services.webchat_caps.suggestions_per_day))
        return None
    capped = False
    if left is not None and left.points is not None and left.points < points:
        points, capped = left.points, True  # what is left of today's points, perhaps none
    picture = await take_picture(ctx) if has_picture(ctx) else None
    if isinstance(picture, str) and not text.strip() and voice_path is None:
        await ctx.tell(picture)  # the picture was all there was
        return None
    try:
        row = prepare_suggestion(
            group=ctx.group, platform=ctx.message.platform, chat_id=ctx.message.chat_id,
            message_id=ctx.message.message_id, author_id=author_id, author_name=author_name,
            text=text, voice_path=voice_path, raised_by=raised_by, now=ctx.now(),
            hamlet=hamlet, with_photo=isinstance(picture, Picture))
        transcripts = ctx.services.transcripts
        # A voice alone is heard by the transcription server, and its receipt says what it heard.
        heard = transcripts if voice_path and not text.strip() else None
        receipt = None
        # The plain receipt is made from the stored row itself where the bot is alone on its
        # database: no answer stored beside each suggestion.
        from_row = (picture is None and not author and not voice_path and not capped
                    and receipts_from_rows(ctx.engine))
        if picture is None and not from_row:
            # The receipt is known before the number: stored with the suggestion, in its
            # transaction, so the platform hears "taken" only once both are. One waiting for
            # a transcript is held back meanwhile (no longer than the server may take, so a
            # bot dying meanwhile still sends it after its restart).
            receipt_text = _receipt_text(author_name if author else None, voice_path)
            if capped and left is not None and first_time_today(ctx, left, "points"):
                receipt_text += "\n" + texts.LIMIT_POINTS_TODAY.format(
                    limit=ctx.services.webchat_caps.points_per_day)
            message_id, place = ctx.next_answer()
            receipt = Receipt(message_id, place, ctx.for_sender(receipt_text),
                              hold=heard.hold if heard is not None else None)
        number, created = await ctx.ingest.suggestion(
            Raised(row, points=points, item_id=item_id, join_open_talk=True,
                   hamlet_from_talk=not hamlet, receipt=receipt, receipt_from_row=from_row))
    except SuggestionError as exc:
        if isinstance(picture, Picture):
            await drop_thumb(ctx, picture)
        await ctx.tell(str(exc))
        return None
    except Exception:
        if isinstance(picture, Picture):
            await drop_thumb(ctx, picture)
        raise
    if receipt is not None or from_row:  # stored with the suggestion (or found, redelivered)
        if heard is not None and created and receipt is not None:
            heard.spawn(_receipt_with_transcript(ctx, heard, number, voice_path or "", receipt))
        else:
            ctx.services.replies.wake(ctx.message.platform, ctx.message.chat_id)
        return number
    photo_note: str | None = picture if isinstance(picture, str) else None
    with_photo = False
    if isinstance(picture, Picture):
        with_photo, said = await attach(ctx, number, picture)
        photo_note = None if with_photo else said
    if with_photo and not author:
        answer = texts.PHOTO_RAISED.format(number=number)
    elif author:
        answer = texts.CMD_SUGGESTION_RAISED_FOR.format(name=author_name, number=number)
    elif voice_path:
        answer = texts.CMD_SUGGESTION_RAISED_VOICE.format(number=number)
    else:
        answer = texts.CMD_SUGGESTION_RAISED.format(number=number)
    short = None
    if photo_note:
        answer += "\n" + photo_note
        # Where only one line goes to the group, it must say the picture was not kept.
        short = texts.PHOTO_RAISED_NOT_KEPT.format(number=number, reason=photo_note)
    if not created:
        # A redelivered message: its answer was stored with the first delivery (and is not
        # stored twice), unless storing it is what failed then.
        await ctx.tell(answer, short=short, acknowledges=number)
        return number
    if heard is not None and voice_path:
        # Its receipt is stored now and held while the server listens, as one stored with the
        # suggestion is (no longer than the server may take: a bot dying meanwhile still sends
        # it after its restart); the platform's answer never waits for the server.
        message_id, place = await ctx.tell(answer, short=short, acknowledges=number,
                                           hold=heard.hold)
        receipt = Receipt(message_id, place, ctx.for_sender(answer, short=short))
        heard.spawn(_receipt_with_transcript(ctx, heard, number, voice_path, receipt))
        return number
    await ctx.tell(answer, short=short, acknowledges=number)
    return number


def _receipt_text(author_name: str | None, voice_path: str | None) -> str:
    """The receipt of a suggestion without a picture, its number still to fill in."""
    if author_name is not None:
        return texts.CMD_SUGGESTION_RAISED_FOR.format(name=author_name, number=NUMBER)
    if voice_path:
        return texts.CMD_SUGGESTION_RAISED_VOICE.format(number=NUMBER)
    return texts.CMD_SUGGESTION_RAISED.format(number=NUMBER)


async def _receipt_with_transcript(ctx: Context, transcripts: Transcripts, number: int,
                                   voice_path: str, receipt: Receipt) -> None:
    """Let the held receipt go once the server has heard the voice, what it heard added (or
    as it is, when the server gave nothing or the bot is stopping)."""
    said = None
    try:
        said = await transcripts.transcribe(number, voice_path)
    except asyncio.CancelledError:  # the bot is stopping: the receipt goes as it is
        await _release(ctx, receipt, None)
        raise
    except Exception:  # the boundary of this background work: the receipt goes regardless
        log.exception("suggestion %s: transcript failed", number)
    answer = receipt.answer.text.replace(NUMBER, str(number))
    await _release(ctx, receipt, answer + "\n" + texts.TRANSCRIPT_RECEIPT.format(text=said)
                   if said else None)


async def _release(ctx: Context, receipt: Receipt, text: str | None) -> None:
    try:
        await ctx.services.replies.release(ctx.message.platform, ctx.message.chat_id,
                                           receipt.message_id, receipt.place, text=text)
    except Exception as exc:  # its hold runs out all the same: then it goes as it is
        log.warning("a held receipt in %s/%s waits out its hold: %s", ctx.message.platform,
                    ctx.message.chat_id, exc)


def named_author(db: Session, group_id: int, name: str) -> tuple[str, str]:
    """The member called `name` in the group, or a stand-in id for someone not in the chat."""
    member = db.exec(select(Member).where(Member.group_id == group_id,
                                          Member.display_name == name)).first()
    if member is not None:
        return member.user_id, member.display_name
    return f"{PROXY_PREFIX}{name}", name


def member_hamlet(db: Session, group_id: int, user_id: str) -> str:
    """The 屋场 a member of the group was placed in; "" for none (or for a non-member)."""
    hamlet = db.exec(select(Hamlet.name).join(Member, col(Member.hamlet_id) == Hamlet.id)
                     .where(Member.group_id == group_id, Member.user_id == user_id)).first()
    return hamlet or ""


def mine_text(rows: list[Suggestion]) -> str:
    """The answer to /我的建议: newest first, each with its number, status and reply."""
    if not rows:
        return texts.CMD_MINE_NONE
    newest = sorted(rows, key=lambda s: s.id or 0, reverse=True)
    lines = [texts.CMD_MINE_HEADING.format(count=len(rows))]
    for row in newest[:MINE_LIMIT]:
        what = row.text or (texts.CMD_VOICE_SUGGESTION if row.voice_path
                            else texts.PHOTO_SUGGESTION)
        lines.append(texts.CMD_MINE_LINE.format(number=row.id, status=STATUS_LABELS[row.status],
                                            text=shorten(what, 30)))
        if row.reply:
            lines.append(texts.CMD_MINE_REPLY.format(reply=shorten(row.reply, 40)))
    if len(rows) > MINE_LIMIT:
        lines.append(texts.CMD_MINE_MORE.format(limit=MINE_LIMIT))
    return "\n".join(lines)


def mine_line(rows: list[Suggestion]) -> str | None:
    """/我的建议 in one line, for platforms that can only answer in the group."""
    if not rows:
        return None  # the answer's own text is one line already
    newest = max(rows, key=lambda s: s.id or 0)
    return texts.QUIET_MINE_SHORT.format(count=len(rows), number=newest.id,
                                         status=STATUS_LABELS[newest.status])


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, with an ellipsis if cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def register(router: Router) -> None:
    """Add the suggestion commands and the 「建议 …」 / night-talk reply / voice handlers."""

    @router.command(("建议", "suggest"), summary=texts.CMD_HELP_SUGGEST,
                    usage=texts.CMD_USAGE_SUGGEST)
    async def suggest(ctx: Context, args: str) -> None:
        # A voice that came with the command (a Telegram voice captioned 建议) is the
        # suggestion itself, as with 「建议」 written before it.
        if not args and ctx.message.voice is None and not has_picture(ctx):
            await ctx.reply(texts.CMD_USAGE_SUGGEST)
            return
        await raise_suggestion(ctx, args, voice_path=_voice(ctx))

    @router.command(("代提", "proxy"), role=Role.FACILITATOR, summary=texts.CMD_HELP_PROXY,
                    usage=texts.CMD_USAGE_PROXY)
    async def proxy(ctx: Context, args: str) -> None:
        name, *rest = args.split(None, 1) or [""]
        if not name or not rest:
            await ctx.reply(texts.CMD_USAGE_PROXY)
            return
        author = await in_session(ctx.engine, named_author, ctx.group_id, name)
        hamlet = await in_session(ctx.engine, member_hamlet, ctx.group_id, author[0])
        await raise_suggestion(ctx, rest[0].strip(), author=author, hamlet=hamlet)

    for names, to, summary, usage in STATUS_COMMANDS:
        # A handler who is a plain member moves (办理, 办结) the items given to them.
        admits = handler_admits if to in (SuggestionStatus.IN_PROGRESS,
                                          SuggestionStatus.DONE) else None
        router.command(names, role=Role.SECRETARY, summary=summary, usage=usage,
                       admits=admits)(_status_command(to, usage))

    @router.command(("我的建议", "mine"), summary=texts.CMD_HELP_MINE)
    async def mine(ctx: Context, args: str) -> None:
        rows = await in_session(ctx.engine, suggestions_by, ctx.group_id, ctx.message.user_id)
        await ctx.tell(mine_text(rows), short=mine_line(rows))

    router.text(add_to_suggestion)  # a picture for a suggestion already raised
    router.text(take_offered_voices)

    @router.text
    async def raise_by_keyword(ctx: Context) -> bool:
        text = raised_text(ctx.message.text)
        if text is None:
            return False
        if not text and ctx.message.voice is None and not has_picture(ctx):
            await ctx.reply(texts.CMD_USAGE_SUGGEST)
            return True
        await raise_suggestion(ctx, text, voice_path=_voice(ctx))
        return True

    @router.text
    async def raise_in_night_talk(ctx: Context) -> bool:
        message = ctx.message
        if message.voice is None and message.reply_to is None and not has_picture(ctx):
            return False
        talk = await in_session(ctx.engine, open_talk, ctx.group_id)
        if talk is None:
            return False
        # A picture alone during the talk is what someone wants looked at, like a voice.
        alone = has_picture(ctx) and not message.text.strip()
        if message.voice is not None or alone or (talk.open_message_id is not None
                                         and message.reply_to == talk.open_message_id):
            await raise_suggestion(ctx, message.text.strip(), voice_path=_voice(ctx))
            return True
        return False

    router.text(offer_voice)


async def offer_voice(ctx: Context) -> bool:
    """A voice outside a night talk: keep it on offer and ask whether it is a suggestion.

    Asked only once it is stored, so the member's 「是」 always finds it.
    """
    message = ctx.message
    if message.voice is None:
        return False
    ask = await in_session(ctx.engine, hold_voice, group_id=ctx.group_id,
                           user_id=message.user_id, message_id=message.message_id,
                           voice_path=str(message.voice), text=message.text.strip(),
                           now=ctx.now())
    if ask:
        await ctx.ask(texts.CMD_VOICE_ASK)
    return True


async def take_offered_voices(ctx: Context) -> bool:
    """The member's 「是」 to that question: their waiting voices become suggestions.

    Anywhere else a bare 「好」 is ordinary chat and is left alone.
    """
    if ctx.message.voice is not None or not agrees(ctx.message.text):
        return False
    voices = await in_session(ctx.engine, waiting_voices, group_id=ctx.group_id,
                              user_id=ctx.message.user_id, now=ctx.now())
    if not voices:
        return False
    for voice in voices:
        # Raised as the voice message itself: the answer quotes it, and a 「是」 delivered twice
        # finds that suggestion already stored instead of making another.
        said = replace(ctx.message, message_id=voice.message_id, text=voice.text,
                       voice=Path(voice.voice_path), reply_to=None)
        await raise_suggestion(replace(ctx, message=said), voice.text,
                               voice_path=voice.voice_path)
    await in_session(ctx.engine, drop_voices, [voice.id for voice in voices])
    return True


def _voice(ctx: Context) -> str | None:
    return str(ctx.message.voice) if ctx.message.voice is not None else None


def _status_command(to: SuggestionStatus, usage: str) -> CommandHandler:
    async def change(ctx: Context, args: str) -> None:
        parsed = parse_number(args)
        if parsed is None:
            await ctx.reply(usage)
            return
        number, reply = parsed
        if len(str(number)) > MAX_NUMBER_DIGITS:
            await ctx.reply(texts.CMD_NO_SUCH_SUGGESTION.format(number=number))
            return
        handing = hand_over(reply) if to is SuggestionStatus.ADOPTED else None
        asked = parse_assignment(handing) if handing is not None else None
        if handing is not None and asked is None:
            await ctx.reply(texts.CMD_USAGE_ASSIGN)
            return
        secretary = ctx.allows(Role.SECRETARY)

        def move(db: Session, handler: Handler | None, due_at: datetime | None
                 ) -> tuple[Suggestion, str | None]:
            if not secretary and not may_handle(
                    get_suggestion(db, number, group_id=ctx.group_id), ctx.message.user_id):
                raise SuggestionError(texts.HANDLING_ONLY_YOURS.format(number=number))
            suggestion = move_suggestion(
                db, number, to, rules=ctx.services.rules, actor_id=ctx.message.user_id,
                actor_name=ctx.name, reply=asked.rest if asked else reply,
                group_id=ctx.group_id, now=ctx.now())
            if handler is None or due_at is None:
                return suggestion, None
            return assign_in(db, ctx, number, handler, due_at)

        try:
            handler, due_at = await resolve(ctx, asked) if asked else (None, None)
            suggestion, before = await in_session(ctx.engine, move, handler, due_at)
        except SuggestionError as exc:
            await ctx.reply(str(exc))
            return
        log.info("suggestion %s -> %s by %s", number, to, ctx.message.user_id)
        await notify_status_change(ctx.outbox, ctx.group, suggestion)
        if handler is not None:
            await announce(ctx, suggestion, before)
        await add_with_status(ctx, number, done=to is SuggestionStatus.DONE)

    return change
