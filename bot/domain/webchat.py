"""The web group chat's storage: rooms, members, messages and quoted replies (its ChatStore)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot import texts
from bot.core.adapter import StorageError
from bot.core.db import run_db, session
from bot.core.messages import OutgoingText
from bot.core.models import ChatMessage, Group, LessonRecord, Member
from bot.domain.limits import day_start, name_refusal, voices_today
from bot.domain.members import Seen, remember_members
from bot.domain.nighttalks import open_talk

log = logging.getLogger(__name__)

PLATFORM = "web"
BOT_SENDER_ID = "bot"
# A stored message for another instance to show: its room, as the browser sees it, and the one
# member it is for (None: everyone in the room).
Relayed = tuple[str, dict[str, Any], str | None]
QUOTE_CHARS = 30


def group_id(group: Group) -> int:
    """The id of a stored group."""
    assert group.id is not None, "a stored group has an id"
    return group.id


def web_group(db: Session, chat_id: str) -> Group | None:
    """The web room with this chat id, if there is one."""
    query = select(Group).where(Group.platform == PLATFORM, Group.chat_id == chat_id)
    return db.exec(query).first()


def room_list(db: Session, now: datetime) -> list[dict[str, str]]:
    """Every web room, oldest first, with when its latest message came in local time."""
    last = func.max(ChatMessage.created_at)
    # Answers for one member alone say nothing to the room list.
    public = and_(col(ChatMessage.group_id) == col(Group.id),
                  col(ChatMessage.recipient_id).is_(None))
    query = (select(Group, last).join(ChatMessage, public, isouter=True)
             .where(Group.platform == PLATFORM).group_by(col(Group.id))
             .order_by(col(Group.id)))
    return [{"href": f"/room/{quote(group.chat_id, safe='')}", "name": group.name,
             "hamlet": group.hamlet, "last": _when(moment, group.timezone, now) if moment else ""}
            for group, moment in db.exec(query)]


def find_member(db: Session, group: int, user_id: str) -> Member | None:
    """The member row of this user in this group, if they ever said hello."""
    query = select(Member).where(Member.group_id == group, Member.user_id == user_id)
    return db.exec(query).first()


def upsert_member(db: Session, group: int, user_id: str, name: str) -> None:
    """Record a member, or keep their display name current (the inbound path's one upsert)."""
    remember_members(db.connection(), [Seen(group, user_id, name)])


def reply_target(db: Session, group: int, reply_to: str | None) -> int | None:
    """The id of the message in this room that `reply_to` names, if it is one."""
    if reply_to is None or not reply_to.isascii() or not reply_to.isdigit():
        return None
    row = db.get(ChatMessage, int(reply_to))
    return row.id if row is not None and row.group_id == group else None


def bot_text(db: Session, group: int, message: OutgoingText) -> dict[str, Any]:
    """A bot text's fields as stored: @-mentioning a member, and the message it answers; an
    answer for one member alone is stored with them as its recipient."""
    text = message.text
    member = find_member(db, group, message.mention) if message.mention else None
    if member is not None:
        text = f"@{member.display_name} {text}"
    return {"text": text, "reply_to_id": reply_target(db, group, message.reply_to),
            "recipient_id": message.private_to}


def store_message(db: Session, row: ChatMessage) -> dict[str, Any]:
    """Insert a message and return it as the browser sees it."""
    db.add(row)
    db.flush()
    return describe(db, [row])[0]


def page(db: Session, group: int, *, before: int | None, after: int | None, limit: int,
         viewer: str | None = None) -> tuple[list[ChatMessage], bool]:
    """One page of history, oldest first, and whether more lies beyond it; answers for one
    member alone only when `viewer` is that member."""
    seen: ColumnElement[bool] = col(ChatMessage.recipient_id).is_(None)
    if viewer is not None:
        seen = or_(seen, col(ChatMessage.recipient_id) == viewer)
    query = select(ChatMessage).where(ChatMessage.group_id == group, seen)
    if after is not None:
        query = query.where(col(ChatMessage.id) > after).order_by(col(ChatMessage.id).asc())
    else:
        if before is not None:
            query = query.where(col(ChatMessage.id) < before)
        query = query.order_by(col(ChatMessage.id).desc())
    rows = list(db.exec(query.limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return (rows if after is not None else rows[::-1]), more


def describe(db: Session, rows: list[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as the browser sees them, with lesson titles and quoted replies filled in."""
    slugs = {row.lesson_slug for row in rows if row.lesson_slug}
    titles = {lesson.slug: lesson.title for lesson in db.exec(
        select(LessonRecord).where(col(LessonRecord.slug).in_(slugs)))} if slugs else {}
    wanted = {row.reply_to_id for row in rows if row.reply_to_id is not None}
    originals = {row.id: row for row in db.exec(
        select(ChatMessage).where(col(ChatMessage.id).in_(wanted)))} if wanted else {}
    described = []
    for row in rows:
        original = originals.get(row.reply_to_id)
        if original is not None and original.group_id != row.group_id:
            original = None
        described.append({
            "id": row.id, "sender_name": row.sender_name, "from_bot": row.from_bot,
            "sender_tag": "" if row.from_bot else sender_tag(row.sender_id), "text": row.text,
            "audio_url": None if row.voice_expired_at else row.audio_url,
            "voice_expired": row.voice_expired_at is not None,
            "audio_duration": row.audio_duration, "image_url": row.image_url,
            "subtitle_url": row.subtitle_url, "lesson_slug": row.lesson_slug,
            "private": row.recipient_id is not None,
            "lesson_title": titles.get(row.lesson_slug or "", ""),
            "quote": _quote(original) if original is not None else None,
            "created_at": row.created_at.isoformat()})
    return described


def sender_tag(user_id: str) -> str:
    """A stand-in for the user id that lets a browser spot its own messages.

    The user id itself is the only credential a web user has, so it is never sent to others.
    """
    return hashlib.sha256(f"yehua-web:{user_id}".encode()).hexdigest()[:16]


def _quote(original: ChatMessage) -> dict[str, Any]:
    """The grey line above a reply: who said it and the start of what they said."""
    text = " ".join(original.text.split())
    if not text:
        text = texts.WEB_QUOTE_VOICE if original.audio_url else \
            texts.WEB_QUOTE_PHOTO if original.image_url else ""
    elif len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS] + "…"
    return {"id": original.id, "sender_name": original.sender_name, "text": text,
            "sender_tag": "" if original.from_bot else sender_tag(original.sender_id)}


def _when(moment: datetime, zone_name: str, now: datetime) -> str:
    """A short local time for lists: 「今天 20:15」, 「昨天 08:02」, 「3月5日 19:30」."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        day = texts.WEB_TODAY
    elif local.date() == today - timedelta(days=1):
        day = texts.WEB_YESTERDAY
    else:
        day = texts.WEB_DATE_FORMAT.format(month=local.month, day=local.day)
    return f"{day} {local:%H:%M}"


class WebChatTables:
    """The web chat's rooms, members and messages in the bot's database (blocking calls)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _db(self) -> Iterator[Session]:
        """A session whose database faults reach the adapter as StorageError."""
        try:
            with session(self.engine) as db:
                yield db
        except SQLAlchemyError as exc:
            raise StorageError(f"the web chat's storage failed: {exc}") from exc

    def room(self, chat_id: str) -> Group | None:
        """The web room with this chat id, if there is one."""
        with self._db() as db:
            return web_group(db, chat_id)

    def rooms(self) -> list[dict[str, str]]:
        """Every web room for the room list."""
        with self._db() as db:
            return room_list(db, datetime.now(UTC))

    def history(self, chat_id: str, *, before: int | None, after: int | None, limit: int,
                viewer: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """One page of a room's messages as `viewer` sees them; empty for no such room."""
        with self._db() as db:
            group = web_group(db, chat_id)
            if group is None:
                return [], False
            rows, more = page(db, group_id(group), before=before, after=after, limit=limit,
                              viewer=viewer)
            return describe(db, rows), more

    def join(self, chat_id: str, user_id: str, name: str) -> str:
        """Record a member of the room; the tag browsers know their messages by."""
        with self._db() as db:
            group = web_group(db, chat_id)
            if group is not None:
                upsert_member(db, group_id(group), user_id, name)
        return sender_tag(user_id)

    def member_name(self, chat_id: str, user_id: str) -> str | None:
        """The name a member of the room said hello with, if they ever did."""
        with self._db() as db:
            group = web_group(db, chat_id)
            member = find_member(db, group_id(group), user_id) if group is not None else None
            return member.display_name if member is not None else None

    def name_refusal(self, chat_id: str, user_id: str, name: str) -> str | None:
        """Why this name may not be used in the room (it passes for the bot or a role holder)."""
        with self._db() as db:
            group = web_group(db, chat_id)
            return name_refusal(db, group_id(group), user_id, name) if group else None

    def voices_today(self, chat_id: str, user_id: str, now: datetime) -> int:
        """How many voice messages the member sent to the room today, in the room's time."""
        with self._db() as db:
            group = web_group(db, chat_id)
            if group is None:
                return 0
            return voices_today(db, group_id(group), group.timezone, user_id, now)

    def photos_today(self, chat_id: str, user_id: str, now: datetime) -> int:
        """How many pictures the member sent to the room today, in the room's time."""
        with self._db() as db:
            group = web_group(db, chat_id)
            if group is None:
                return 0
            _today, start = day_start(now, group.timezone)
            return int(db.exec(select(func.count()).select_from(ChatMessage).where(
                ChatMessage.group_id == group_id(group), ChatMessage.sender_id == user_id,
                col(ChatMessage.image_url).is_not(None),
                col(ChatMessage.created_at) >= start)).one())

    def add_photo(self, chat_id: str, user_id: str, name: str, image_url: str, text: str
                  ) -> dict[str, Any]:
        """Store a member's picture (with its caption) and the member, in one transaction."""
        with self._db() as db:
            group = _room(db, chat_id)
            upsert_member(db, group, user_id, name)
            return store_message(db, ChatMessage(
                group_id=group, sender_id=user_id, sender_name=name, text=text,
                image_url=image_url))
    def open_talk(self, chat_id: str) -> int | None:
        """The number of the room's night talk that is open now, if one is."""
        with self._db() as db:
            group = web_group(db, chat_id)
            talk = open_talk(db, group.id) if group is not None and group.id else None
            return talk.id if talk is not None else None

    def voice_files(self) -> list[str]:
        """The file names of every member's voice still kept in any web room."""
        with self._db() as db:
            urls = db.exec(select(ChatMessage.audio_url).join(Group).where(
                Group.platform == PLATFORM, col(ChatMessage.from_bot).is_(False),
                col(ChatMessage.audio_url).is_not(None),
                col(ChatMessage.voice_expired_at).is_(None)))
            return [url.rsplit("/", 1)[-1] for url in urls if url]

    def add_text(self, chat_id: str, user_id: str, name: str, text: str) -> dict[str, Any]:
        """Store what a member wrote."""
        with self._db() as db:
            group = _room(db, chat_id)
            return store_message(db, ChatMessage(group_id=group, sender_id=user_id,
                                                 sender_name=name, text=text))

    def add_voice(self, chat_id: str, user_id: str, name: str, audio_url: str,
                  duration_s: float) -> dict[str, Any]:
        """Store a member's voice message and the member, in one transaction."""
        with self._db() as db:
            group = _room(db, chat_id)
            upsert_member(db, group, user_id, name)
            return store_message(db, ChatMessage(
                group_id=group, sender_id=user_id, sender_name=name, audio_url=audio_url,
                audio_duration=round(duration_s, 2)))

    def add_bot_text(self, chat_id: str, message: OutgoingText) -> dict[str, Any] | None:
        """Store a bot text with its mention and quoted reply; None if no such room."""
        return self._add_bot(chat_id, lambda db, group: {
            "lesson_slug": message.lesson_slug, **bot_text(db, group, message)})

    def add_bot_audio(self, chat_id: str, *, caption: str, audio_url: str, duration_s: float,
                      lesson_slug: str | None, subtitle_url: str | None
                      ) -> dict[str, Any] | None:
        """Store a bot voice clip; None if there is no such room."""
        return self._add_bot(chat_id, lambda _db, _group: {
            "text": caption, "audio_url": audio_url, "audio_duration": duration_s,
            "lesson_slug": lesson_slug, "subtitle_url": subtitle_url})

    def relayed(self, message_ids: list[int] | None = None, *, after: int = 0,
                limit: int = 500) -> list[Relayed]:
        """Stored web messages for instances that did not store them: those in `message_ids`,
        or else every one after the id `after` (oldest first, `limit` at most)."""
        with self._db() as db:
            query = (select(ChatMessage, Group).join(Group, col(Group.id) == ChatMessage.group_id)
                     .where(Group.platform == PLATFORM))
            if message_ids is not None:
                query = query.where(col(ChatMessage.id).in_(message_ids))
            else:
                query = query.where(col(ChatMessage.id) > after)
            found = list(db.exec(query.order_by(col(ChatMessage.id)).limit(limit)))
            described = describe(db, [row for row, _ in found])
            return [(group.chat_id, payload, row.recipient_id)
                    for (row, group), payload in zip(found, described, strict=True)]

    def _add_bot(self, chat_id: str, fields: Callable[[Session, int], dict[str, Any]]
                 ) -> dict[str, Any] | None:
        with self._db() as db:
            group = web_group(db, chat_id)
            if group is None:
                return None
            return store_message(db, ChatMessage(
                group_id=group_id(group), sender_id=BOT_SENDER_ID, sender_name=texts.BOT_NAME,
                from_bot=True, **fields(db, group_id(group))))


class WebChatStore:
    """The web chat adapter's `ChatStore`: `WebChatTables` asked from the database threads,
    so a busy database keeps the member waiting, never the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables = WebChatTables(engine)

    async def room(self, chat_id: str) -> Group | None:
        """See `WebChatTables.room`."""
        return await run_db(self.engine, self.tables.room, chat_id)

    async def rooms(self) -> list[dict[str, str]]:
        """See `WebChatTables.rooms`."""
        return await run_db(self.engine, self.tables.rooms)

    async def history(self, chat_id: str, *, before: int | None, after: int | None, limit: int,
                      viewer: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """See `WebChatTables.history`."""
        return await run_db(self.engine, self.tables.history, chat_id, before=before,
                            after=after, limit=limit, viewer=viewer)

    async def join(self, chat_id: str, user_id: str, name: str) -> str:
        """See `WebChatTables.join`."""
        return await run_db(self.engine, self.tables.join, chat_id, user_id, name)

    async def member_name(self, chat_id: str, user_id: str) -> str | None:
        """See `WebChatTables.member_name`."""
        return await run_db(self.engine, self.tables.member_name, chat_id, user_id)

    async def name_refusal(self, chat_id: str, user_id: str, name: str) -> str | None:
        """See `WebChatTables.name_refusal`."""
        return await run_db(self.engine, self.tables.name_refusal, chat_id, user_id, name)

    async def voices_today(self, chat_id: str, user_id: str, now: datetime) -> int:
        """See `WebChatTables.voices_today`."""
        return await run_db(self.engine, self.tables.voices_today, chat_id, user_id, now)

    async def photos_today(self, chat_id: str, user_id: str, now: datetime) -> int:
        """See `WebChatTables.photos_today`."""
        return await run_db(self.engine, self.tables.photos_today, chat_id, user_id, now)

    async def add_photo(self, chat_id: str, user_id: str, name: str, image_url: str,
                        text: str) -> dict[str, Any]:
        """See `WebChatTables.add_photo`."""
        return await run_db(self.engine, self.tables.add_photo, chat_id, user_id, name,
                            image_url, text)

    async def voice_files(self) -> list[str]:
        """See `WebChatTables.voice_files`."""
        return await run_db(self.engine, self.tables.voice_files)

    async def add_text(self, chat_id: str, user_id: str, name: str, text: str) -> dict[str, Any]:
        """See `WebChatTables.add_text`."""
        return await run_db(self.engine, self.tables.add_text, chat_id, user_id, name, text)

    async def add_voice(self, chat_id: str, user_id: str, name: str, audio_url: str,
                        duration_s: float) -> dict[str, Any]:
        """See `WebChatTables.add_voice`."""
        return await run_db(self.engine, self.tables.add_voice, chat_id, user_id, name, audio_url,
                            duration_s)

    async def open_talk(self, chat_id: str) -> int | None:
        """See `WebChatTables.open_talk`."""
        return await run_db(self.engine, self.tables.open_talk, chat_id)

    async def add_bot_text(self, chat_id: str, message: OutgoingText) -> dict[str, Any] | None:
        """See `WebChatTables.add_bot_text`."""
        return await run_db(self.engine, self.tables.add_bot_text, chat_id, message)

    async def relayed(self, message_ids: list[int] | None = None, *, after: int = 0,
                      limit: int = 500) -> list[Relayed]:
        """See `WebChatTables.relayed`."""
        return await run_db(self.engine, self.tables.relayed, message_ids, after=after,
                            limit=limit)

    async def add_bot_audio(self, chat_id: str, *, caption: str, audio_url: str,
                            duration_s: float, lesson_slug: str | None,
                            subtitle_url: str | None) -> dict[str, Any] | None:
        """See `WebChatTables.add_bot_audio`."""
        return await run_db(self.engine, self.tables.add_bot_audio, chat_id, caption=caption,
                            audio_url=audio_url,
                            duration_s=duration_s, lesson_slug=lesson_slug,
                            subtitle_url=subtitle_url)


def _room(db: Session, chat_id: str) -> int:
    """The id of the web room a member is talking in (it was there when they started)."""
    group = web_group(db, chat_id)
    if group is None:
        raise StorageError(f"the web room {chat_id!r} is gone")
    return group_id(group)
