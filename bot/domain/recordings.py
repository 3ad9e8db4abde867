"""A lesson's recording in its speaker's own voice: checked, normalised, kept, removed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import LessonRecord, LessonRecording
from lessons.audio import PreparedRecording, RecordingRefused
from lessons.audio_jobs import prepare_recording_away
from lessons.library import Lesson
from lessons.speech import Cue, srt_from_cues
from scheduler.dbtypes import utcnow

MAX_RECORDING_BYTES = 60 * 1024 * 1024  # a 30-minute phone recording at 256 kbps fits
MAX_RECORDING_SECONDS = 30 * 60

RecordingSource = bytes | Path | IO[bytes]


class RecordingError(Exception):
    """A recording refused: `status` for HTTP, the message in Chinese for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_big() -> RecordingError:
    """The refusal for a file over MAX_RECORDING_BYTES."""
    return RecordingError(413, texts.RECORDING_TOO_BIG.format(
        mb=MAX_RECORDING_BYTES // (1024 * 1024)))


@dataclass(frozen=True)
class Voiced:
    """A recording ready to store: the MP3, its hash, length and paragraph subtitles."""

    mp3: bytes
    audio_hash: str
    duration_s: float
    cues: str
    paragraphs: int


@dataclass(frozen=True)
class RecordingView:
    """A stored recording without its audio: what pages list and voices look up."""

    id: int
    audio_hash: str
    duration_s: float
    cues: str
    original_name: str
    uploaded_by: str
    created_at: datetime
    removed_at: datetime | None
    removed_by: str | None


# Everything but the audio: listing recordings or looking one up never loads megabytes.
_VIEW_COLUMNS = tuple(col(c) for c in (
    LessonRecording.id, LessonRecording.audio_hash, LessonRecording.duration_s,
    LessonRecording.cues, LessonRecording.original_name, LessonRecording.uploaded_by,
    LessonRecording.created_at, LessonRecording.removed_at, LessonRecording.removed_by))


def paragraphs_of(lesson: Lesson) -> list[str]:
    """The lesson's plain text split on blank lines, each paragraph on one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", lesson.plain_text) if p.strip()]


def voiced(source: RecordingSource, lesson: Lesson) -> Voiced:
    """Decode and normalise a recording and cue its paragraphs (blocking: run in a thread);
    RecordingError when it is too big, too long, undecodable or silent."""
    size = len(source) if isinstance(source, bytes) else \
        source.stat().st_size if isinstance(source, Path) else None
    if size is not None and size > MAX_RECORDING_BYTES:
        raise too_big()
    try:
        # Prepared in the audio worker's child: PyAV never stays in the bot's memory.
        prepared = prepare_recording_away(source, max_seconds=MAX_RECORDING_SECONDS)
    except RecordingRefused as exc:
        raise _refusal(exc.reason) from exc
    paragraphs = paragraphs_of(lesson) or [lesson.title]
    cues = paragraph_cues(paragraphs, prepared)
    return Voiced(prepared.mp3, hashlib.sha256(prepared.mp3).hexdigest(), prepared.duration_s,
                  srt_from_cues(cues), len(cues))


def _refusal(reason: str) -> RecordingError:
    if reason == "too_long":
        return RecordingError(413, texts.RECORDING_TOO_LONG.format(
            minutes=MAX_RECORDING_SECONDS // 60))
    if reason == "silent":
        return RecordingError(415, texts.RECORDING_SILENT)
    return RecordingError(415, texts.RECORDING_UNDECODABLE)


def paragraph_cues(paragraphs: list[str], prepared: PreparedRecording) -> list[Cue]:
    """A cue per paragraph, split in the recording's longest silences (in order); with fewer
    silences than paragraph ends, the time is shared by the paragraphs' length instead."""
    duration = prepared.duration_s
    # Quiet before the first word and after the last is not between paragraphs.
    inner = [s for s in prepared.silences if s[0] > 0.0 and s[1] < duration - 0.1]
    speech_start = prepared.silences[0][1] if prepared.silences and \
        prepared.silences[0][0] <= 0.0 else 0.0
    ends = [s for s in prepared.silences if s[1] >= duration - 0.1 and s[0] > 0.0]
    speech_end = ends[-1][0] if ends else duration
    wanted = len(paragraphs) - 1
    if len(inner) >= wanted:
        longest = sorted(inner, key=lambda s: s[1] - s[0], reverse=True)[:wanted]
        gaps = sorted(longest)
    else:
        total = sum(len(p) for p in paragraphs)
        span = speech_end - speech_start
        marks = [speech_start + span * sum(len(p) for p in paragraphs[: i + 1]) / total
                 for i in range(wanted)]
        gaps = [(mark, mark) for mark in marks]
    starts = [speech_start, *(end for _, end in gaps)]
    stops = [*(start for start, _ in gaps), speech_end]
    return [Cue(round(a, 3), round(b, 3), text)
            for a, b, text in zip(starts, stops, paragraphs, strict=True)]


def lesson_row(db: Session, slug: str) -> LessonRecord | None:
    """The lesson's row by slug."""
    return db.exec(select(LessonRecord).where(col(LessonRecord.slug) == slug)).first()


def save_recording(db: Session, slug: str, voice: Voiced, *, original_name: str,
                   uploaded_by: str) -> RecordingView:
    """Keep `voice` as the lesson's current recording; RecordingError if there is no lesson."""
    lesson = lesson_row(db, slug)
    if lesson is None or lesson.id is None:
        raise RecordingError(404, texts.RECORDING_UNKNOWN_LESSON.format(slug=slug))
    now = utcnow()
    # One current recording at most: removing it later means synthesis, not an older take.
    for earlier in db.exec(select(LessonRecording).where(
            col(LessonRecording.lesson_id) == lesson.id,
            col(LessonRecording.removed_at).is_(None))):
        earlier.removed_at, earlier.removed_by = now, uploaded_by
        db.add(earlier)
    row = LessonRecording(lesson_id=lesson.id, audio=voice.mp3, audio_hash=voice.audio_hash,
                          duration_s=voice.duration_s, cues=voice.cues,
                          original_name=original_name[:200], uploaded_by=uploaded_by,
                          created_at=now)
    db.add(row)
    db.flush()
    assert row.id is not None
    return RecordingView(row.id, row.audio_hash, row.duration_s, row.cues, row.original_name,
                         row.uploaded_by, row.created_at, None, None)


def recordings_of(db: Session, slug: str) -> list[RecordingView]:
    """Every recording of the lesson, newest first, without their audio."""
    query = (sa_select(*_VIEW_COLUMNS)
             .join(LessonRecord, col(LessonRecord.id) == col(LessonRecording.lesson_id))
             .where(col(LessonRecord.slug) == slug)
             .order_by(col(LessonRecording.created_at).desc(), col(LessonRecording.id).desc()))
    return [RecordingView(*row) for row in db.execute(query)]


def current_recording(db: Session, slug: str) -> RecordingView | None:
    """The lesson's current recording: the newest not removed (None: the voice is synthesized)."""
    query = (sa_select(*_VIEW_COLUMNS)
             .join(LessonRecord, col(LessonRecord.id) == col(LessonRecording.lesson_id))
             .where(col(LessonRecord.slug) == slug, col(LessonRecording.removed_at).is_(None))
             .order_by(col(LessonRecording.created_at).desc(), col(LessonRecording.id).desc())
             .limit(1))
    row = db.execute(query).first()
    return RecordingView(*row) if row else None


def recording_audio(db: Session, recording_id: int) -> bytes | None:
    """The stored MP3 of one recording."""
    return db.exec(select(LessonRecording.audio).where(
        col(LessonRecording.id) == recording_id)).first()


def remove_recording(db: Session, slug: str, *, removed_by: str) -> RecordingView | None:
    """Retire the current recording (kept in the history); None when there is none."""
    current = current_recording(db, slug)
    if current is None:
        return None
    row = db.get(LessonRecording, current.id)
    assert row is not None
    row.removed_at, row.removed_by = utcnow(), removed_by
    db.add(row)
    return current


def format_duration(seconds: float) -> str:
    """A recording's length as people say it: 5分02秒, or 37秒."""
    whole = round(seconds)
    if whole < 60:
        return texts.RECORDING_DURATION_SHORT.format(seconds=whole)
    return texts.RECORDING_DURATION.format(minutes=whole // 60, seconds=whole % 60)

