"""The media files every instance serves, kept in the database (the media_file table).

Each instance's media folder only caches them: a voice received by one instance, a picture or
a lesson's audio it made, plays from any other. A speaker's recording is already in the
database whole (lesson_recording), so its audio and subtitles are served from there, not
kept twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot.core.adapter import StorageError
from bot.core.db import in_session, is_storage_fault
from bot.core.models import LessonRecording, MediaFile

# A recording's files are named by the hash of its audio: <sha256>.mp3 and <sha256>.srt.
_RECORDING_FILE = re.compile(r"([0-9a-f]{64})\.(mp3|srt)")


def put_media(db: Session, name: str, data: bytes) -> None:
    """Keep `data` as `name`; a name already kept stays as it is (the same content, or the
    same random name written again)."""
    from sqlalchemy.dialects import postgresql, sqlite  # the store runs on one of the two

    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(insert(MediaFile).values(name=name, data=data, size=len(data))
               .on_conflict_do_nothing(index_elements=["name"]))


def get_media(db: Session, name: str) -> bytes | None:
    """The file kept as `name`, or a recording's audio or subtitles by its hash; else None."""
    data = db.exec(select(MediaFile.data).where(MediaFile.name == name)).first()
    if data is not None:
        return data
    recording = _RECORDING_FILE.fullmatch(name)
    if recording is None:
        return None
    row = db.exec(select(LessonRecording).where(
        LessonRecording.audio_hash == recording.group(1))).first()
    if row is None:
        return None
    return row.audio if recording.group(2) == "mp3" else row.cues.encode()


def forget_media(db: Session, names: Iterable[str]) -> None:
    """Delete the files kept under these names (in the caller's transaction)."""
    names = list(names)
    if names:
        db.execute(delete(MediaFile).where(col(MediaFile.name).in_(names)))


class DatabaseMediaStore:
    """The bot's `MediaStore`: the media_file table, worked on off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def put(self, name: str, data: bytes) -> None:
        """Keep a complete file; StorageError if the database cannot take it now."""
        try:
            await in_session(self.engine, put_media, name, data)
        except SQLAlchemyError as exc:
            if is_storage_fault(exc):
                raise StorageError(f"media {name} not kept: {exc}") from exc
            raise

    async def get(self, name: str) -> bytes | None:
        """The file kept as `name`, or None."""
        return await in_session(self.engine, get_media, name)

    async def delete(self, names: Iterable[str]) -> None:
        """Forget these files."""
        await in_session(self.engine, forget_media, list(names))
