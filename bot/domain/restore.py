"""Restore: a backup archive brought back into the data folder, never over data by accident."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from bot import texts
from bot.domain.backup import (
    AUDIO,
    FORMAT,
    MANIFEST,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    BackupRefused,
    Progress,
    audio_files,
    database_kind,
    dump_postgres,
    postgres_counts,
    run_postgres_tool,
    sqlite_counts,
    sqlite_path,
)
from bot.settings import Settings
from scheduler.dbtypes import utcnow

ASIDE_PREFIX = "before-restore-"


@dataclass(frozen=True)
class RestoreResult:
    """What a restore brought back, and where the old data went."""

    database: str
    tables: dict[str, int]
    files: int
    moved_aside: Path | None = None


def read_manifest(archive: zipfile.ZipFile) -> dict[str, object]:
    """The archive's manifest, checked: our format, safe member names, a database inside."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise BackupError(texts.RESTORE_NOT_A_BACKUP) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(texts.RESTORE_NOT_A_BACKUP)
    for name in archive.namelist():
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or "\\" in name or not parts or (
                parts[0] not in (AUDIO, "database") and name != MANIFEST):
            raise BackupError(texts.RESTORE_NOT_A_BACKUP)
    member = SQLITE_MEMBER if manifest.get("database") == "sqlite" else POSTGRES_MEMBER
    if member not in archive.namelist():
        raise BackupError(texts.RESTORE_NOT_A_BACKUP)
    return manifest


def postgres_has_tables(url: str) -> bool:
    """Whether the PostgreSQL database already holds tables."""
    return bool(postgres_counts(url))


def _in_use(settings: Settings, kind: str) -> bool:
    if kind == "sqlite":
        path = sqlite_path(settings.db_url)
        if path.exists() and path.stat().st_size > 0:
            return True
    elif postgres_has_tables(settings.db_url):
        return True
    return bool(audio_files(settings.audio_dir))


@contextmanager
def _staging(data_dir: Path) -> Iterator[Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".yehua-restore-") as work:
        yield Path(work)


def _move_aside(settings: Settings, kind: str, when: datetime) -> Path:
    aside = settings.data_dir / f"{ASIDE_PREFIX}{when:%Y%m%d-%H%M%S}"
    aside.mkdir(parents=True)
    if kind == "sqlite":
        path = sqlite_path(settings.db_url)
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                os.replace(old, aside / old.name)
    else:  # pg_restore replaces the tables in place: keep a dump of what they held
        dump_postgres(settings.db_url, aside / "yehua.pgdump")
    if settings.audio_dir.exists():
        os.replace(settings.audio_dir, aside / AUDIO)
    return aside


def _check_sqlite(path: Path) -> None:
    try:
        check = sqlite3.connect(path)
        try:
            healthy = check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(texts.BACKUP_DATABASE_DAMAGED) from exc
    if not healthy:
        raise BackupError(texts.BACKUP_DATABASE_DAMAGED)


def _move_in(restored: Path, audio_dir: Path) -> None:
    """Move the restored audio files into the audio folder (which may hold a cache already)."""
    audio_dir.mkdir(parents=True, exist_ok=True)
    for name in audio_files(restored):
        (audio_dir / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(restored / name, audio_dir / name)


def restore_backup(settings: Settings, archive_path: Path, *, force: bool = False,
                   progress: Progress | None = None, now: datetime | None = None
                   ) -> RestoreResult:
    """Bring an archive back into the data folder (and the configured database).

    Refused when that would overwrite a database or audio, unless `force`: then the old
    ones are moved aside into `before-restore-…`, never deleted. Everything is unpacked and
    checked in a staging folder first, so a broken archive leaves the data folder as it was.
    """
    kind = database_kind(settings.db_url)
    report = progress or (lambda _done, _total: None)
    try:
        archive = zipfile.ZipFile(archive_path)
    except FileNotFoundError as exc:
        raise BackupError(texts.RESTORE_NO_FILE.format(path=archive_path)) from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(texts.RESTORE_NOT_A_BACKUP) from exc
    with archive:
        manifest = read_manifest(archive)
        if manifest["database"] != kind:
            raise BackupError(texts.RESTORE_OTHER_DATABASE.format(
                archived=manifest["database"], configured=kind))
        in_use = _in_use(settings, kind)
        if in_use and not force:
            raise BackupRefused(texts.RESTORE_NOT_EMPTY.format(path=settings.data_dir.resolve()))
        members = [i for i in archive.infolist() if not i.is_dir() and i.filename != MANIFEST]
        total, done = sum(i.file_size for i in members), 0
        report(0, total)
        try:
            with _staging(settings.data_dir) as work:
                for info in members:
                    archive.extract(info, work)
                    done += info.file_size
                    report(done, total)
                database = work / (SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER)
                if kind == "sqlite":
                    _check_sqlite(database)
                when = (now or utcnow()).astimezone(settings.zone)
                aside = _move_aside(settings, kind, when) if in_use else None
                if kind == "sqlite":
                    target = sqlite_path(settings.db_url)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(database, target)
                else:
                    run_postgres_tool("pg_restore", settings.db_url, "--no-owner",
                                       "--no-privileges", "--clean", "--if-exists",
                                       "--single-transaction", str(database))
                _move_in(work / AUDIO, settings.audio_dir)
        except OSError as exc:
            raise BackupError(texts.RESTORE_WRITE_FAILED.format(
                path=settings.data_dir, error=exc.strerror or exc)) from exc
    if kind == "sqlite":
        db = sqlite3.connect(sqlite_path(settings.db_url))
        try:
            tables = sqlite_counts(db)
        finally:
            db.close()
    else:
        tables = postgres_counts(settings.db_url)
    return RestoreResult(database=kind, tables=tables, files=len(audio_files(settings.audio_dir)),
                         moved_aside=aside)
