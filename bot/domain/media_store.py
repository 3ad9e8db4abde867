"""The media files every instance serves, kept in the database (the media_file table).

Each instance's media folder only caches them: a voice received by one instance, a picture or
a lesson's audio it made, plays from any other. A speaker's recording is already in the
database whole (lesson_recording), so its audio and subtitles are served from there, not
kept twice. A deleted file (an expired voice) leaves its name behind, marked: whichever
instance still holds a copy deletes it when asked for it, instead of playing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from bot.core.adapter import StorageError
from bot.core.db import in_session, is_storage_fault
from bot.core.models import LessonRecording, MediaFile

# The size of a deleted file's row: its bytes are gone, its name stays as the mark.
FORGOTTEN = -1
NAMES_PER_QUERY = 1000  # an IN list a database takes comfortably
# A recording's files are named by the hash of its audio: <sha256>.mp3 and <sha256>.srt.
_RECORDING_FILE = re.compile(r"([0-9a-f]{64})\.(mp3|srt)")


def _insert(db: Session) -> Callable[[type[MediaFile]], Any]:
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def put_media(db: Session, name: str, data: bytes) -> None:
    """Keep `data` as `name`; a name already kept stays as it is (the same content, or the
    same random name written again)."""
    db.execute(_insert(db)(MediaFile).values(name=name, data=data, size=len(data))
               .on_conflict_do_nothing(index_elements=["name"]))


def get_media(db: Session, name: str) -> bytes | None:
    """The file kept as `name`, or a recording's audio or subtitles by its hash; else None."""
    row = db.exec(select(MediaFile.data, MediaFile.size).where(MediaFile.name == name)).first()
    if row is not None:
        return row[0] if row[1] != FORGOTTEN else None
    recording = _RECORDING_FILE.fullmatch(name)
    if recording is None:
        return None
    found = db.exec(select(LessonRecording).where(
        LessonRecording.audio_hash == recording.group(1))).first()
    if found is None:
        return None
    return found.audio if recording.group(2) == "mp3" else found.cues.encode()


def forget_media(db: Session, names: Iterable[str]) -> None:
    """Drop the bytes of these files and leave a mark that they are gone (in the caller's
    transaction): an instance still holding a copy then deletes it instead of serving it."""
    for name in names:
        db.execute(_insert(db)(MediaFile).values(name=name, data=b"", size=FORGOTTEN)
                   .on_conflict_do_update(index_elements=["name"],
                                          set_={"data": b"", "size": FORGOTTEN}))


def is_forgotten(db: Session, name: str) -> bool:
    """Whether `name` was kept and then deleted."""
    return db.exec(select(MediaFile.size).where(MediaFile.name == name)).first() == FORGOTTEN


def media_size(db: Session, names: list[str]) -> int:
    """Bytes the files kept under `names` take (a deleted file's mark takes none)."""
    if not names:
        return 0
    total = db.exec(select(func.sum(MediaFile.size)).where(
        col(MediaFile.name).in_(names), col(MediaFile.size) > 0)).one()
    return int(total or 0)


def unseen_media(db: Session, names: list[str]) -> list[str]:
    """Those of `names` with no row: never kept, never deleted, and no recording's."""
    seen: set[str] = set()
    for start in range(0, len(names), NAMES_PER_QUERY):
        chunk = names[start:start + NAMES_PER_QUERY]
        seen.update(db.exec(select(MediaFile.name).where(col(MediaFile.name).in_(chunk))))
        hashes = {name.split(".")[0] for name in chunk if _RECORDING_FILE.fullmatch(name)}
        if hashes:
            recorded = set(db.exec(select(LessonRecording.audio_hash).where(
                col(LessonRecording.audio_hash).in_(hashes))))
            seen.update(name for name in chunk if name.split(".")[0] in recorded)
    return [name for name in names if name not in seen]


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
        """Forget these files, for every instance."""
        await in_session(self.engine, forget_media, list(names))

    async def forgotten(self, name: str) -> bool:
        """Whether the file was deleted."""
        return await in_session(self.engine, is_forgotten, name)

    async def size_of(self, names: list[str]) -> int:
        """Bytes the files kept under these names take."""
        return await in_session(self.engine, media_size, names)

    async def unseen(self, names: list[str]) -> list[str]:
        """Those of `names` never kept nor deleted."""
        return await in_session(self.engine, unseen_media, names)
