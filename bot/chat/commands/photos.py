"""Photos in the chat: attached to the suggestion they come with, reply to or name by number.

A picture with 「建议…」, or alone during an open night talk, is raised with its suggestion
(bot.chat.commands.suggestions); one replying to a suggestion's message or captioned 「第12号」
joins that suggestion here. Any other picture is ordinary chat: not kept. Only a thumbnail made
for nothing is removed here; the received file itself is the router's to drop once the message
is handled, since the web chat's history may show it and a redelivery may need it again.
"""

from __future__ import annotations

import asyncio
import logging
import re

from bot import texts
from bot.chat.router import Context
from bot.core.db import in_session
from bot.core.models import PhotoKind
from bot.domain.photos import (
    PhotoError,
    Picture,
    attach_photo,
    discard,
    examine,
    photos_left,
    suggestion_in_group,
    suggestion_of_message,
)

log = logging.getLogger(__name__)

# 「12」「12号」「第12号」 alone, or 「第12号 …」 with words after: a bare number followed by more
# words (「12号楼的灯坏了」) is chat about something else.
_NAMED = re.compile(r"\s*(?:第\s*(\d{1,9})\s*号(?:建议)?(?:[\s,，:：。].*)?|第?\s*(\d{1,9})\s*号?"
                    r"(?:建议)?[。.!！]?)\s*", re.DOTALL)


# The number in the bot's own answer about a suggestion: 「…是第 12 号。」「第 12 号建议…」
_ANSWERED = re.compile(r"第\s*(\d{1,9})\s*号")


def named_number(caption: str) -> int | None:
    """The suggestion number a photo's caption names (「第12号」「12号」), or None."""
    match = _NAMED.fullmatch(caption)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def has_picture(ctx: Context) -> bool:
    """Whether the message came with a picture, taken or refused."""
    return ctx.message.photo is not None or ctx.message.photo_refused is not None


async def take_picture(ctx: Context) -> Picture | str:
    """The message's picture read and thumbnailed, or why it cannot be kept (Chinese)."""
    message = ctx.message
    if message.photo is None:
        return message.photo_refused or texts.PHOTO_NOT_A_PICTURE
    left = await in_session(ctx.engine, photos_left, ctx.group_id, ctx.group.timezone,
                            message.user_id, ctx.now(), ctx.services.photos.per_day)
    if not left:
        return texts.PHOTO_TOO_MANY_TODAY.format(limit=ctx.services.photos.per_day)
    try:
        # Pillow reads the whole picture: off the event loop.
        picture = await asyncio.to_thread(examine, message.photo)
    except PhotoError as exc:
        return str(exc)
    media = ctx.services.media
    if media is not None:  # the console may show the thumbnail from any instance
        try:
            await media.publish(picture.thumb)
        except BaseException:
            discard(picture.thumb)
            raise
    return picture


async def drop_thumb(ctx: Context, picture: Picture) -> None:
    """Remove a thumbnail made for a picture that was not attached."""
    if ctx.services.media is None:
        discard(picture.thumb)
    else:
        await ctx.services.media.discard(picture.thumb)


async def attach(ctx: Context, number: int, picture: Picture, *, done: bool = False
                 ) -> tuple[bool, str]:
    """Attach the picture to suggestion `number` (`done`: sent with 办结): whether it is now
    there, and the answer for the member (Chinese)."""
    try:
        attached = await in_session(
            ctx.engine, attach_photo, suggestion_id=number, picture=picture,
            uploader_id=ctx.message.user_id, uploader_name=ctx.name,
            message_id=ctx.message.message_id, timezone=ctx.group.timezone,
            per_day=ctx.services.photos.per_day, now=ctx.now(), done=done)
    except PhotoError as exc:
        await drop_thumb(ctx, picture)
        return False, str(exc)
    except Exception:
        await drop_thumb(ctx, picture)  # not stored: the member is not told it was
        raise
    if not attached.created:
        await drop_thumb(ctx, picture)
        return True, texts.PHOTO_ALREADY.format(number=number)
    if attached.photo.kind == PhotoKind.DONE:
        return True, texts.PHOTO_ADDED_DONE.format(number=number)
    return True, texts.PHOTO_ADDED.format(number=number)


async def add_with_status(ctx: Context, number: int, *, done: bool) -> None:
    """A picture sent with a status command (「/办结 12 修好了」 and a photo of the work) joins
    that suggestion once its status has moved; the sender hears what became of it."""
    if not has_picture(ctx):
        return
    picture = await take_picture(ctx)
    if isinstance(picture, str):
        await ctx.tell(picture)
        return
    _attached, answer = await attach(ctx, number, picture, done=done)
    await ctx.tell(answer)


async def add_to_suggestion(ctx: Context) -> bool:
    """A picture replying to a suggestion's message, or captioned with its number, joins it."""
    if not has_picture(ctx):
        return False
    message = ctx.message
    number: int | None = None
    if message.reply_to is not None:
        replied = await in_session(ctx.engine, suggestion_of_message, message.platform,
                                   message.chat_id, message.reply_to)
        if replied is not None and replied.group_id == ctx.group_id:
            number = replied.id
    if number is None and message.replied_text is not None:
        # A reply to the bot's answer about a suggestion: the one its words name.
        answered = _ANSWERED.search(message.replied_text)
        named = int(answered.group(1)) if answered is not None else None
        if named is not None and await in_session(ctx.engine, suggestion_in_group,
                                                  ctx.group_id, named) is not None:
            number = named
    if number is None:
        number = named_number(message.text)
        if number is None:
            return False
        if await in_session(ctx.engine, suggestion_in_group, ctx.group_id, number) is None:
            await ctx.tell(texts.PHOTO_NO_SUCH_SUGGESTION.format(number=number))
            return True
    picture = await take_picture(ctx)
    if isinstance(picture, str):
        await ctx.tell(picture)
        return True
    _attached, answer = await attach(ctx, number, picture)
    await ctx.tell(answer)
    return True


