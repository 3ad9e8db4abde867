"""Web-chat voice messages kept for a while: a daily timer deletes old ones that are no suggestion.

Anyone may post voice to the web chat, and files kept forever fill the disk. A member's voice
that became a suggestion is the village's record and stays; any other is deleted after the
retention period, and its message is marked expired so the history says so instead of showing
a player with nothing behind it. Members' pictures go the same way, unless a suggestion keeps
them; their messages then show only their words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.db import run_db, session
from bot.core.models import ChatMessage, Group, Photo, Suggestion
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import AlwaysDue, add_timer

log = logging.getLogger(__name__)

RETENTION_KIND = "webchat.voice_retention"
RUN_AT = time(4, 0)  # local time: the quietest hour in a village
# Only names the media folder itself gives: a stored URL never leads outside the folder.
VOICE_NAME = re.compile(r"[0-9a-f]{16,64}\.mp3")
PICTURE_NAME = re.compile(r"[0-9a-f]{16,64}\.(jpg|png|webp|gif)")


def next_run(now: datetime, timezone: str) -> datetime:
    """The next 04:00 where the bot lives, after `now`."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    run = datetime.combine(local.date(), RUN_AT, tzinfo=zone)
    if run <= local:
        run = datetime.combine(local.date() + timedelta(days=1), RUN_AT, tzinfo=zone)
    return run


def expire_voices(db: Session, audio_dir: Path, cutoff: datetime, now: datetime, *,
                  shared: bool = False) -> int:
    """Delete the web members' voice files older than `cutoff` that no suggestion keeps.

    Each file goes before its message is marked, so a crash in between leaves a message the
    next run marks again rather than a file nobody would ever delete. `shared`: the media are
    kept for several instances too, and go from there with the mark.
    """
    kept = {Path(path).name for path in db.exec(
        select(Suggestion.voice_path).where(col(Suggestion.voice_path).is_not(None)))
        if path}
    rows = db.exec(select(ChatMessage).join(Group).where(
        Group.platform == "web", col(ChatMessage.from_bot).is_(False),
        col(ChatMessage.audio_url).is_not(None), col(ChatMessage.voice_expired_at).is_(None),
        col(ChatMessage.created_at) < cutoff)).all()
    expired = 0
    for row in rows:
        name = (row.audio_url or "").rsplit("/", 1)[-1]
        if name in kept or not VOICE_NAME.fullmatch(name):
            continue
        (audio_dir / name).unlink(missing_ok=True)
        if shared:
            forget_shared(db, name)
        row.voice_expired_at = now
        db.add(row)
        expired += 1
    return expired


def expire_photos(db: Session, media_dir: Path, cutoff: datetime, *,
                  shared: bool = False) -> int:
    """Delete the web members' pictures older than `cutoff` that no suggestion keeps; their
    messages keep their words and show no picture any more (`shared`: as `expire_voices`)."""
    rows = db.exec(select(ChatMessage).join(Group).where(
        Group.platform == "web", col(ChatMessage.from_bot).is_(False),
        col(ChatMessage.image_url).is_not(None), col(ChatMessage.created_at) < cutoff)).all()
    names = {(row.image_url or "").rsplit("/", 1)[-1] for row in rows}
    kept = set(db.exec(select(Photo.path).where(col(Photo.path).in_(names)))) if names else set()
    expired = 0
    for row in rows:
        name = (row.image_url or "").rsplit("/", 1)[-1]
        if name in kept or not PICTURE_NAME.fullmatch(name):
            continue
        (media_dir / name).unlink(missing_ok=True)
        if shared:
            forget_shared(db, name)
        row.image_url = None
        db.add(row)
        expired += 1
    return expired


def forget_shared(db: Session, name: str) -> None:
    """Delete a file's copy for every instance too (with several instances on PostgreSQL)."""
    from bot.domain.media_store import forget_media  # one instance on SQLite has no such copy

    forget_media(db, [name])


class VoiceRetention:
    """Runs the daily retention sweep of web-chat voices when its timer fires."""

    def __init__(self, engine: Engine, audio_dir: Path, *, days: int, timezone: str,
                 clock: Callable[[], datetime] = utcnow, shared: bool = False) -> None:
        self.engine = engine
        self.audio_dir = audio_dir
        self.shared = shared  # the media are kept in the database for several instances
        self.days = days  # 0: keep every voice
        self.timezone = timezone
        self.clock = clock

    def handlers(self) -> dict[str, Callable[[Timer], Awaitable[None]]]:
        """Timer kinds this sweep handles, for `Scheduler(timer_handlers=...)`."""
        return {RETENTION_KIND: AlwaysDue(self.run)}  # a late sweep is as good as one on time

    def ensure_timer(self, db: Session) -> Timer | None:
        """At start: the next sweep is set, unless voices are kept forever."""
        if not self.days:
            return None
        due = next_run(self.clock(), self.timezone)
        return add_timer(db, RETENTION_KIND, f"day:{due.date().isoformat()}", due)

    async def run(self, timer: Timer) -> None:
        """Sweep now and set tomorrow's sweep."""
        count = await run_db(self.engine, self.sweep)
        log.info("voice retention: %d web-chat voice message(s) expired", count)

    def sweep(self) -> int:
        """Expire what is past the retention period; set the next sweep; how many expired."""
        now = self.clock()
        with session(self.engine) as db:
            cutoff = now - timedelta(days=self.days)
            count = (expire_voices(db, self.audio_dir, cutoff, now, shared=self.shared)
                     + expire_photos(db, self.audio_dir, cutoff, shared=self.shared)
                     ) if self.days else 0
            self.ensure_timer(db)
        return count
