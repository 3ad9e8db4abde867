"""Backups: one zip of the database and the audio it refers to, made while the bot runs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from bot import texts
from bot.core.db import in_session, make_engine
from bot.core.models import MediaFile
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import (
    AlwaysDue,
    TimerHandler,
    TimerStatus,
    add_timer,
    cancel_timer,
    timers_for,
)

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "yehua-backup.json"
SQLITE_MEMBER = "database/yehua.db"
POSTGRES_MEMBER = "database/yehua.pgdump"
AUDIO = "audio"
# The per-segment speech cache: nothing in the database points at it and the bot remakes it.
SKIPPED_FOLDERS = frozenset({"segments"})
STORED_SUFFIXES = frozenset({".mp3", ".ogg", ".opus", ".m4a", ".amr", ".silk"})  # compressed
CHUNK = 1024 * 1024
RESERVE = 256 * 1024 * 1024  # left free on the data folder's disk: the database needs room too
MANUAL_PREFIX, NIGHTLY_PREFIX = "yehua-backup-", "yehua-nightly-"
NIGHTLY_KIND = "backup.nightly"
NIGHTLY_REF = "backup:"  # + the local date: backup:2026-12-06

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class BackupError(Exception):
    """A backup or restore that could not be done; the message is Chinese, for the user."""


class BackupRefused(BackupError):
    """Refused before anything was touched: it would overwrite something (see --force)."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup holds."""

    path: Path
    database: str  # "sqlite" or "postgresql"
    tables: dict[str, int] = field(default_factory=dict)  # rows per table (SQLite)
    files: int = 0
    size: int = 0  # bytes of the archive


def database_kind(url: str) -> str:
    """"sqlite" or "postgresql"; BackupError for any other database."""
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(texts.BACKUP_UNSUPPORTED.format(backend=backend))
    return backend


def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(texts.BACKUP_UNSUPPORTED.format(backend="sqlite (memory)"))
    return Path(database)


def audio_files(audio_dir: Path) -> list[Path]:
    """The audio folder's files worth keeping, relative to it: no caches, no half-written ones."""
    if not audio_dir.is_dir():
        return []
    found: list[Path] = []
    for folder, subfolders, names in os.walk(audio_dir):
        subfolders[:] = sorted(d for d in subfolders
                               if d not in SKIPPED_FOLDERS and not d.startswith("."))
        found += [Path(folder, name).relative_to(audio_dir) for name in sorted(names)
                  if not name.startswith(".") and not name.endswith((".tmp", ".partial"))]
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # deleted since it was listed (e.g. an expired voice message)
        return 0


def snapshot_sqlite(source: Path, target: Path) -> dict[str, int]:
    """Copy a live SQLite database with its online backup API; rows per table of the copy.

    One step, not page by page: in WAL mode the copy reads a snapshot while the bot keeps
    writing, whereas a stepped copy restarts every time another connection writes.
    """
    if not source.is_file():
        raise BackupError(texts.BACKUP_NO_DATABASE.format(path=source))
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(texts.BACKUP_DATABASE_DAMAGED)
        return sqlite_counts(copy)
    except sqlite3.Error as exc:
        raise BackupError(texts.BACKUP_SQLITE_FAILED.format(error=exc)) from exc
    finally:
        copy.close()
        live.close()


def sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Rows per table of an SQLite database."""
    names = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _postgres_command(tool: str, url: str) -> tuple[list[str], dict[str, str]]:
    """The pg tool with the connection as a libpq URI; the password goes in the environment."""
    program = shutil.which(tool)
    if program is None:
        raise BackupError(texts.BACKUP_NO_PG_TOOL.format(tool=tool))
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return [program, "--dbname", conninfo], env


def run_postgres_tool(tool: str, url: str, *args: str) -> None:
    """Run pg_dump or pg_restore on the database; BackupError with its last line if it fails."""
    command, env = _postgres_command(tool, url)
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(texts.BACKUP_PG_TOOL_FAILED.format(
            tool=tool, error=lines[-1] if lines else f"exit {done.returncode}"))


def dump_postgres(url: str, target: Path) -> None:
    """pg_dump in its custom format: one consistent snapshot, restorable with pg_restore."""
    run_postgres_tool("pg_dump", url, "--format=custom", "--no-owner", "--no-privileges",
                       "--file", str(target))


def kept_in_postgres(url: str) -> set[str]:
    """The media files the database holds itself (every instance serves them from there): the
    dump has them, so the audio folder's copies need not go into the archive as well."""
    from bot.domain.media_store import FORGOTTEN

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(select(col(MediaFile.name)).where(
                col(MediaFile.size) != FORGOTTEN)).scalars())
    except SQLAlchemyError as exc:
        raise BackupError(texts.BACKUP_DATABASE_UNREACHABLE.format(
            error=str(exc).splitlines()[0])) from exc
    finally:
        engine.dispose()


def postgres_counts(url: str) -> dict[str, int]:
    """Rows per table of a PostgreSQL database."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {name: int(connection.execute(select(func.count()).select_from(table))
                              .scalar_one())
                    for name, table in sorted(metadata.tables.items())}
    except SQLAlchemyError as exc:
        raise BackupError(texts.BACKUP_DATABASE_UNREACHABLE.format(
            error=str(exc).splitlines()[0])) from exc
    finally:
        engine.dispose()


def backup_name(prefix: str, now: datetime) -> str:
    """`yehua-backup-20261206-033000.zip`: sorts by time, one per second."""
    return f"{prefix}{now:%Y%m%d-%H%M%S}.zip"


def _check_room(target_dir: Path, data_dir: Path, needed: int) -> None:
    free = shutil.disk_usage(target_dir).free
    same_disk = target_dir.stat().st_dev == data_dir.stat().st_dev if data_dir.exists() else True
    want = needed + (RESERVE if same_disk else 0)
    if free < want:
        raise BackupError(texts.BACKUP_NO_ROOM.format(folder=target_dir.resolve(),
                                                      need=_mb(want), free=_mb(free)))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def _zip_info(path: Path, name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = (zipfile.ZIP_STORED if path.suffix.lower() in STORED_SUFFIXES
                          else zipfile.ZIP_DEFLATED)
    return info


def write_backup(settings: Settings, target: Path | None = None, *,
                 progress: Progress | None = None, prefix: str = MANUAL_PREFIX,
                 now: datetime | None = None) -> BackupResult:
    """Write one archive of the database and the audio folder; the finished file or nothing.

    The database is copied first, then the audio: a voice file is written before the row that
    points at it, so every file the copied database refers to is already there to be copied.
    On PostgreSQL the files the database keeps for every instance are in the dump already.
    """
    kind = database_kind(settings.db_url)
    when = (now or utcnow()).astimezone(settings.zone)
    chosen = target
    target = target or settings.backups
    if target.is_dir() or not target.suffix:
        target = target / backup_name(prefix, when)
    if target.exists():
        raise BackupRefused(texts.BACKUP_TARGET_EXISTS.format(path=target.resolve()))
    if chosen is not None and not target.parent.is_dir():
        # Made only for the backup folder of the settings: a USB stick not plugged in would
        # otherwise get its folder made on the office disk, and the copy would stay there.
        raise BackupRefused(texts.BACKUP_NO_FOLDER.format(folder=target.parent))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(texts.BACKUP_WRITE_FAILED.format(
            path=target.parent, error=exc.strerror or exc)) from exc
    files = audio_files(settings.audio_dir)
    if kind == "postgresql":
        _postgres_command("pg_dump", settings.db_url)  # without pg_dump, say so first
        # Listed before the dump is taken, so each name skipped here is in the dump.
        in_dump = kept_in_postgres(settings.db_url)
        files = [name for name in files if str(name) not in in_dump]
    database_size = (_size(sqlite_path(settings.db_url)) if kind == "sqlite" else 0)
    total = database_size + sum(_size(settings.audio_dir / name) for name in files)
    _check_room(target.parent, settings.data_dir, total)
    report = progress or (lambda _done, _total: None)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".yehua-backup-") as work:
            if kind == "sqlite":
                snapshot, member = Path(work, "yehua.db"), SQLITE_MEMBER
                tables = snapshot_sqlite(sqlite_path(settings.db_url), snapshot)
            else:
                snapshot, member = Path(work, "yehua.pgdump"), POSTGRES_MEMBER
                dump_postgres(settings.db_url, snapshot)
                tables = {}
            total += snapshot.stat().st_size - database_size
            done = snapshot.stat().st_size
            report(0, total)
            kept = 0
            with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
                archive.write(snapshot, member, compress_type=zipfile.ZIP_DEFLATED)
                report(done, total)
                for name in files:
                    copied = _add_file(archive, settings.audio_dir / name,
                                       str(PurePosixPath(AUDIO, *name.parts)))
                    if copied is not None:
                        kept += 1
                        done += copied
                        report(done, total)
                manifest = {"format": FORMAT, "made_at": when.isoformat(), "database": kind,
                            "tables": tables, "files": kept}
                archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            with open(partial, "rb") as written:
                os.fsync(written.fileno())
            os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(texts.BACKUP_WRITE_FAILED.format(
            path=target, error=exc.strerror or exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report(total, total)
    return BackupResult(path=target, database=kind, tables=tables, files=kept,
                        size=target.stat().st_size)


def _add_file(archive: zipfile.ZipFile, path: Path, name: str) -> int | None:
    """Copy one file into the archive; its size, or None if it vanished meanwhile."""
    try:
        info = _zip_info(path, name)
        with open(path, "rb") as source, archive.open(info, "w") as sink:
            shutil.copyfileobj(source, sink, CHUNK)
    except FileNotFoundError:
        return None
    return info.file_size


def prune_backups(folder: Path, keep: int, prefix: str = NIGHTLY_PREFIX) -> list[Path]:
    """Delete all but the newest `keep` archives named with `prefix`; the deleted ones."""
    archives = sorted(folder.glob(f"{prefix}*.zip"))
    doomed = archives[:-keep] if keep > 0 else archives
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# --- the nightly backup: a timer, so it survives restarts and runs on one instance only ---------

def next_nightly(settings: Settings, now: datetime) -> datetime:
    """The next YEHUA_BACKUP_AT (local time) after `now`, in UTC."""
    local = now.astimezone(settings.zone)
    due = datetime.combine(local.date(), settings.backup_at, tzinfo=settings.zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), settings.backup_at,
                               tzinfo=settings.zone)
    return due.astimezone(UTC)


def arm_nightly_backup(db: Session, settings: Settings, now: datetime | None = None
                       ) -> Timer | None:
    """The pending nightly-backup timer: added, moved to a changed time, or (off) cancelled.

    An overdue one is left to fire (the bot was down at backup time): it arms the next itself.
    """
    now = now or utcnow()
    pending = [t for t in timers_for(db, NIGHTLY_REF)
               if t.kind == NIGHTLY_KIND and t.status == TimerStatus.PENDING]
    overdue = [t for t in pending if t.due_at <= now]
    if overdue and settings.backup_keep > 0:
        return overdue[0]
    due = next_nightly(settings, now)
    ref = f"{NIGHTLY_REF}{due.astimezone(settings.zone):%Y-%m-%d}"
    for timer in pending:
        if timer.ref != ref or settings.backup_keep == 0:
            cancel_timer(db, timer.kind, timer.ref)
    if settings.backup_keep == 0:
        return None
    return add_timer(db, NIGHTLY_KIND, ref, due)


class NightlyBackup:
    """Writes a nightly archive into the backups folder and keeps the newest few."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def handlers(self) -> dict[str, TimerHandler]:
        """Timer kinds this handles, for `Scheduler(timer_handlers=...)`; none when turned off."""
        if self.settings.backup_keep == 0:
            return {}
        return {NIGHTLY_KIND: AlwaysDue(self.run)}  # a late backup beats a skipped one

    async def run(self, timer: Timer) -> None:
        """Back up, drop the oldest beyond the kept number, arm tomorrow's timer."""
        try:
            result = await asyncio.to_thread(write_backup, self.settings, prefix=NIGHTLY_PREFIX)
            dropped = await asyncio.to_thread(prune_backups, self.settings.backups,
                                              self.settings.backup_keep)
            log.info("nightly backup written to %s (%s, %d audio files); %d old one(s) removed",
                     result.path, _mb(result.size), result.files, len(dropped))
        except BackupError as exc:
            log.error("nightly backup not made: %s", exc)
        finally:
            # Tomorrow's, even if this one fired early.
            await in_session(self.engine, arm_nightly_backup, self.settings,
                             max(utcnow(), timer.due_at))
