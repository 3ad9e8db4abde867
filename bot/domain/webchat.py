"""The web group chat's storage: rooms, members, messages, quoted replies, voice recordings."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import texts
from bot.chat.ingest import Seen, remember_members
from bot.core.messages import OutgoingText
from bot.core.models import ChatMessage, Group, LessonRecord, Member
from lessons.audio import any_to_mp3, loudness, probe

log = logging.getLogger(__name__)

PLATFORM = "web"
USER_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_NAME = 20
QUOTE_CHARS = 30
MAX_VOICE_BYTES = 2 * 1024 * 1024
MAX_VOICE_SECONDS = 120.0
# A recorder told to stop at 120 s stops a few frames later: those frames are not refused.
VOICE_GRACE_SECONDS = 1.0
MIN_VOICE_SECONDS = 0.5
SILENT_LUFS = -60.0  # quieter than this overall, nobody said anything
# A bot reply keeps the id of the message it answers in front of its text, between two
# record separators: ChatMessage has no column for it, and only the bot writes from_bot rows,
# so no member can forge one.


def group_id(group: Group) -> int:
    """The id of a stored group."""
    assert group.id is not None, "a stored group has an id"
    return group.id


def web_group(db: Session, chat_id: str) -> Group | None:
    """The web room with this chat id, if there is one."""
    query = select(Group).where(Group.platform == PLATFORM, Group.chat_id == chat_id)
    return db.exec(query).first()


class VoiceRefused(Exception):
    """A voice recording the chat will not take; `text` tells the member why, in Chinese."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def room_list(db: Session, now: datetime) -> list[dict[str, str]]:
    """Every web room, oldest first, with when its latest message came in local time."""
    last = func.max(ChatMessage.created_at)
    query = (select(Group, last).join(ChatMessage, isouter=True)
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


def clean_name(name: object) -> str:
    """A display name with its spaces tidied; empty when it is not text."""
    return " ".join(name.split()) if isinstance(name, str) else ""


def voice_sender(db: Session, group: int, user_id: str, name: str) -> str:
    """The name to show on a voice message: the one sent with it, or the one from the hello."""
    if not USER_ID.fullmatch(user_id):
        raise VoiceRefused(400, texts.WEB_ERROR_USER_ID)
    if not (name := clean_name(name)):
        member = find_member(db, group, user_id)
        if member is None:
            raise VoiceRefused(400, texts.WEB_ERROR_NO_HELLO)
        name = member.display_name
    if not 1 <= len(name) <= MAX_NAME:
        raise VoiceRefused(400, texts.WEB_ERROR_NAME)
    return name


def reply_target(db: Session, group: int, reply_to: str | None) -> int | None:
    """The id of the message in this room that `reply_to` names, if it is one."""
    if reply_to is None or not reply_to.isascii() or not reply_to.isdigit():
        return None
    row = db.get(ChatMessage, int(reply_to))
    return row.id if row is not None and row.group_id == group else None


def bot_text(db: Session, group: int, message: OutgoingText) -> dict[str, Any]:
    """A bot text's fields as stored: @-mentioning a member, and the message it answers."""
    text = message.text
    member = find_member(db, group, message.mention) if message.mention else None
    if member is not None:
        text = f"@{member.display_name} {text}"
    return {"text": text, "reply_to_id": reply_target(db, group, message.reply_to)}


def store_message(db: Session, row: ChatMessage) -> dict[str, Any]:
    """Insert a message and return it as the browser sees it."""
    db.add(row)
    db.flush()
    return describe(db, [row])[0]


def page(db: Session, group: int, *, before: int | None, after: int | None, limit: int
         ) -> tuple[list[ChatMessage], bool]:
    """One page of history, oldest first, and whether more lies beyond it."""
    query = select(ChatMessage).where(ChatMessage.group_id == group)
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
            "audio_url": row.audio_url, "audio_duration": row.audio_duration,
            "subtitle_url": row.subtitle_url, "lesson_slug": row.lesson_slug,
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
        text = texts.WEB_QUOTE_VOICE if original.audio_url else ""
    elif len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS] + "…"
    return {"id": original.id, "sender_name": original.sender_name, "text": text}


def prepare_voice(audio: bytes) -> tuple[bytes, float]:
    """A recording as MP3 with its length in seconds; VoiceRefused saying why it is unfit."""
    if not audio:
        raise VoiceRefused(400, texts.WEB_VOICE_TOO_SHORT)
    try:
        mp3 = any_to_mp3(audio, max_seconds=MAX_VOICE_SECONDS + VOICE_GRACE_SECONDS)
    except ValueError as exc:
        try:
            too_long = probe(audio).duration_s > MAX_VOICE_SECONDS
        except ValueError:
            too_long = False
        log.info("web chat: voice refused: %s", exc)
        raise VoiceRefused(400, texts.WEB_VOICE_TOO_LONG if too_long
                           else texts.WEB_VOICE_UNREADABLE) from exc
    seconds = probe(mp3).duration_s
    if seconds < MIN_VOICE_SECONDS or loudness(audio) < SILENT_LUFS:
        raise VoiceRefused(400, texts.WEB_VOICE_TOO_SHORT)
    return mp3, seconds


def save_voice(audio_dir: Path, mp3: bytes) -> Path:
    """Write a voice message under a random name the media route serves."""
    path = audio_dir / f"{secrets.token_hex(16)}.mp3"
    path.write_bytes(mp3)
    return path


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
