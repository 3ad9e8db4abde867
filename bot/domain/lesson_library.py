"""The lesson library: the database holds every lesson and its versions; files are its seed.

Several instances share one database and need no shared disk, so the database is the library.
A Markdown file in the lessons folder is how a library starts and an editor's way in: a new or
changed file is taken in as a new version, unless the lesson was edited in the console since the
file was last taken in. Then the file is not taken in (a conflict, shown until someone chooses),
so neither side ever silently overwrites the other. A deleted file changes nothing: the lesson
stays in the library; archiving it in the console hides it and stops it being scheduled.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import LessonOrigin, LessonRecord, LessonVersion
from lessons.library import (
    Lesson,
    LessonProblem,
    LoadResult,
    load_library,
    parse_lesson,
    read_lesson,
)
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,100}")
# The form's fields, in the order their lines appear in the lesson text.
HEADER_FIELDS = ("title", "speaker", "date", "tags", "summary", "speech_profile")


@dataclass(frozen=True)
class SavedVersion:
    """Who saved a version, when and from where (kept after its session is gone)."""

    number: int
    origin: LessonOrigin
    author: str
    created_at: datetime.datetime


class StaleSave(Exception):
    """The lesson moved on since the form was opened; `current` is the version saved since."""

    def __init__(self, current: LessonVersion | None) -> None:
        super().__init__(f"lesson moved on to version {current.number if current else '?'}")
        # The session rolls back on this error: its rows would be unreadable afterwards.
        self.current = SavedVersion(current.number, current.origin, current.author,
                                    current.created_at) if current else None


# A take-in that fails with one of these lost a race: another task or instance took the same
# file in at the same moment, and the library already holds it.
TAKEN_IN_MEANWHILE = (StaleSave, IntegrityError)


class LessonExists(Exception):
    """A new lesson's number is already taken."""


@dataclass(frozen=True)
class LessonForm:
    """What the console's lesson form holds, as typed."""

    slug: str
    title: str = ""
    speaker: str = ""
    date: str = ""
    tags: str = ""
    summary: str = ""
    speech_profile: str = ""
    body: str = ""

    @classmethod
    def of(cls, lesson: Lesson) -> LessonForm:
        """The form filled in from a stored lesson."""
        return cls(slug=lesson.slug, title=lesson.title, speaker=lesson.speaker,
                   date=lesson.date.isoformat(), tags=", ".join(lesson.tags),
                   summary=lesson.summary, speech_profile=lesson.speech_profile or "",
                   body=lesson.body)

    def text_and_fields(self) -> tuple[str, dict[int, str]]:
        """The lesson's text (the file form) and which form field each header line came from."""
        tags = ", ".join(t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip())
        values = {"title": self.title, "speaker": self.speaker, "date": self.date,
                  "tags": f"[{tags}]" if tags else "", "summary": self.summary,
                  "speech_profile": self.speech_profile}
        lines, fields = ["---"], {1: "slug"}
        for name in HEADER_FIELDS:
            value = " ".join(values[name].split())  # one line each: a newline would end it
            if name == "speech_profile" and not value:
                continue
            lines.append(f"{name}: {value}")
            fields[len(lines)] = name
        lines += ["---", self.body.strip("\n"), ""]
        return "\n".join(lines), fields


@dataclass(frozen=True)
class FormCheck:
    """A checked form: the lesson when it is valid, else the problems by form field."""

    lesson: Lesson | None
    problems: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LibraryEntry:
    """One lesson in the library: its current text parsed, its state."""

    lesson: Lesson
    version: int
    archived: bool
    conflict: bool


def content_hash(text: str) -> str:
    """SHA-256 hex of a lesson's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_form(folder: Path, entry: LessonForm) -> FormCheck:
    """Validate the form exactly as `yehua lessons check` validates a file."""
    text, fields = entry.text_and_fields()
    lesson, problems = parse_lesson(folder / f"{entry.slug}.md", text)
    found: dict[str, list[str]] = {}
    for problem in problems:
        name = fields.get(problem.line, "body" if problem.line > max(fields) else "slug")
        found.setdefault(name, []).append(problem.message)
    return FormCheck(lesson, found)


def _record(db: Session, slug: str) -> LessonRecord | None:
    return db.exec(select(LessonRecord).where(col(LessonRecord.slug) == slug)).first()


def _version(db: Session, record: LessonRecord, number: int) -> LessonVersion | None:
    return db.exec(select(LessonVersion).where(
        col(LessonVersion.lesson_id) == record.id,
        col(LessonVersion.number) == number)).first()


def _add_version(db: Session, record: LessonRecord, lesson: Lesson, *, origin: LessonOrigin,
                 author: str, now: datetime.datetime) -> LessonVersion:
    """Store `lesson` as the record's next version and make it current."""
    if record.id is None:
        db.add(record)
        db.flush()
    number = record.version + 1
    # Only the writer that still sees the version it read moves the lesson on: two saves at
    # once cannot both become the same number.
    moved = db.execute(update(LessonRecord).where(
        col(LessonRecord.id) == record.id, col(LessonRecord.version) == record.version,
    ).values(version=number))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleSave(None)
    record.version = number
    assert record.id is not None  # flushed above
    version = LessonVersion(lesson_id=record.id, number=number, source=lesson.source,
                            content_hash=lesson.content_hash, origin=origin, author=author,
                            created_at=now)
    record.title, record.speaker, record.summary = lesson.title, lesson.speaker, lesson.summary
    record.source, record.content_hash = lesson.source, lesson.content_hash
    db.add(version)
    db.add(record)
    db.flush()
    return version


def take_in(db: Session, lesson: Lesson, *, now: datetime.datetime | None = None) -> None:
    """Take in one valid lesson file (see the module's note on when it is not)."""
    now = now or utcnow()
    record = _record(db, lesson.slug)
    file_hash = lesson.content_hash
    if record is None or record.version == 0:
        record = record or LessonRecord(slug=lesson.slug, title=lesson.title)
        record.file_hash, record.conflict_hash = file_hash, None
        _add_version(db, record, lesson, origin=LessonOrigin.FILE, author=lesson.path.name,
                     now=now)
        return
    if file_hash == record.file_hash:
        if record.conflict_hash is not None:  # the file went back to what was taken in
            record.conflict_hash = None
            db.add(record)
        return
    current = _version(db, record, record.version)
    if file_hash == record.content_hash:
        record.file_hash, record.conflict_hash = file_hash, None
        db.add(record)
    elif current is None or current.origin == LessonOrigin.FILE:
        record.file_hash, record.conflict_hash = file_hash, None
        _add_version(db, record, lesson, origin=LessonOrigin.FILE, author=lesson.path.name,
                     now=now)
    elif record.conflict_hash != file_hash:
        log.warning("lesson file %s was edited after console edits: not taken in until "
                    "someone chooses which version to keep", lesson.path.name)
        record.conflict_hash = file_hash
        db.add(record)


def take_in_folder(db: Session, folder: Path) -> list[LessonProblem]:
    """Take in every valid file of `folder`; the problems of the broken ones."""
    loaded = load_library(folder)
    for lesson in loaded.lessons:
        take_in(db, lesson)
    return loaded.problems


def take_in_files(db: Session, folder: Path) -> LoadResult:
    """Take in every valid file of `folder`; the library's lessons and the files' problems."""
    problems = take_in_folder(db, folder)
    return LoadResult([e.lesson for e in all_lessons(db, folder)], problems)


def take_in_file(db: Session, folder: Path, slug: str) -> list[LessonProblem]:
    """Take in one lesson's file if it is there (a missing file is no problem)."""
    path = folder / f"{slug}.md"
    # A number typed in a form must not name a file outside the folder.
    if not SLUG.fullmatch(slug) or not path.is_file():
        return []
    lesson, problems = read_lesson(path)
    if lesson is not None:
        take_in(db, lesson)
    return problems


def _parsed(folder: Path, record: LessonRecord) -> Lesson | None:
    lesson, problems = parse_lesson(folder / f"{record.slug}.md", record.source)
    for problem in problems:  # stored text was valid when stored; the rules may have changed
        log.error("stored lesson %s: %s", record.slug, problem)
    return lesson


def current_lesson(db: Session, folder: Path, slug: str, *, archived: bool = False
                   ) -> Lesson | None:
    """The current version of a lesson; None if missing (or archived, unless asked for)."""
    record = _record(db, slug)
    if record is None or record.version == 0 or (record.archived_at and not archived):
        return None
    return _parsed(folder, record)


def entry(db: Session, folder: Path, slug: str) -> LibraryEntry | None:
    """A lesson with its state (archived ones included)."""
    record = _record(db, slug)
    lesson = _parsed(folder, record) if record is not None and record.version else None
    if record is None or lesson is None:
        return None
    return LibraryEntry(lesson, record.version, record.archived_at is not None,
                        record.conflict_hash is not None)


def all_lessons(db: Session, folder: Path, *, archived: bool = False) -> list[LibraryEntry]:
    """Every stored lesson by date then number; archived ones only when asked for."""
    found = []
    for record in db.exec(select(LessonRecord).where(col(LessonRecord.version) > 0)):
        if record.archived_at is not None and not archived:
            continue
        lesson = _parsed(folder, record)
        if lesson is not None:
            found.append(LibraryEntry(lesson, record.version, record.archived_at is not None,
                                      record.conflict_hash is not None))
    return sorted(found, key=lambda e: (e.lesson.date, e.lesson.slug))


def conflicts(db: Session) -> list[str]:
    """Numbers of the lessons whose file was edited after console edits and not taken in."""
    return list(db.exec(select(LessonRecord.slug).where(
        col(LessonRecord.conflict_hash).is_not(None)).order_by(col(LessonRecord.slug))))


def versions(db: Session, slug: str) -> list[LessonVersion]:
    """A lesson's versions, newest first."""
    record = _record(db, slug)
    if record is None:
        return []
    return list(db.exec(select(LessonVersion).where(col(LessonVersion.lesson_id) == record.id)
                        .order_by(col(LessonVersion.number).desc())))


def version_text(db: Session, slug: str, number: int) -> str | None:
    """The text of one version of a lesson; None if there is no such version."""
    record = _record(db, slug)
    found = _version(db, record, number) if record is not None else None
    return found.source if found is not None else None


def _check_not_moved(db: Session, record: LessonRecord, based_on: int) -> None:
    if record.version == based_on:
        return
    raise StaleSave(_version(db, record, record.version))


def save(db: Session, lesson: Lesson, *, based_on: int, author: str,
         origin: LessonOrigin = LessonOrigin.CONSOLE, new: bool = False,
         now: datetime.datetime | None = None) -> LessonVersion:
    """Store a checked lesson as a new version, if nobody saved one since `based_on`."""
    record = _record(db, lesson.slug)
    if new and record is not None and record.version > 0:
        raise LessonExists(texts.LESSON_SLUG_TAKEN.format(slug=lesson.slug))
    if record is None:
        record = LessonRecord(slug=lesson.slug, title=lesson.title)
    elif not new:
        _check_not_moved(db, record, based_on)
    return _add_version(db, record, lesson, origin=origin, author=author, now=now or utcnow())


def restore(db: Session, folder: Path, slug: str, number: int, *, based_on: int, author: str,
            now: datetime.datetime | None = None) -> LessonVersion | None:
    """Save an earlier version's text as the newest version; None if there is no such one."""
    text = version_text(db, slug, number)
    lesson = parse_lesson(folder / f"{slug}.md", text)[0] if text is not None else None
    if lesson is None:
        return None
    return save(db, lesson, based_on=based_on, author=author, now=now)


def resolve_conflict(db: Session, folder: Path, slug: str, *, use_file: bool,
                     now: datetime.datetime | None = None) -> bool:
    """Settle a conflict: take in the file's version, or keep the console's (the file is seen).

    False when there is nothing to settle, or the file is gone or no longer valid."""
    record = _record(db, slug)
    if record is None or record.conflict_hash is None:
        return False
    if not use_file:
        record.file_hash, record.conflict_hash = record.conflict_hash, None
        db.add(record)
        return True
    lesson, _ = read_lesson(folder / f"{slug}.md") if (folder / f"{slug}.md").is_file() \
        else (None, [])
    if lesson is None:
        return False
    record.file_hash, record.conflict_hash = lesson.content_hash, None
    if lesson.content_hash != record.content_hash:
        _add_version(db, record, lesson, origin=LessonOrigin.FILE, author=lesson.path.name,
                     now=now or utcnow())
    else:
        db.add(record)
    return True


def set_archived(db: Session, slug: str, archived: bool,
                 now: datetime.datetime | None = None) -> bool:
    """Archive a lesson (hidden, not schedulable) or bring it back; False if there is none."""
    record = _record(db, slug)
    if record is None or record.version == 0:
        return False
    record.archived_at = (now or utcnow()) if archived else None
    db.add(record)
    return True
