"""`yehua backup` and `yehua restore`: the village's record in one zip file, and back.

Exit codes: 0 done; 1 tried and failed (nothing half-written is left); 2 refused before
touching anything (it would overwrite, or a setting is wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.filesize import decimal
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from bot import texts
from bot.cli.kit import console, errors, load_cli_settings, say, stop
from bot.domain.backup import BackupError, BackupRefused, write_backup
from bot.domain.restore import restore_backup

BACKUP_HELP = texts.BACKUP_HELP
RESTORE_HELP = texts.RESTORE_HELP


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A byte progress bar; yields the callback the domain reports (done, total) to.

    The bar appears with the first report, so a refusal before any work shows no empty bar.
    """
    progress = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), console=console)
    task = progress.add_task(label, total=None)

    def report(done: int, total: int) -> None:
        progress.start()  # does nothing once started
        progress.update(task, completed=done, total=total)

    try:
        yield report
    finally:
        if progress.live.is_started:
            progress.stop()


def _failed(message: str) -> typer.Exit:
    errors.print(f"[bold red]{escape(message)}[/]")
    return typer.Exit(1)


def _counts(tables: dict[str, int]) -> str:
    return "，".join(texts.BACKUP_COUNT.format(name=name, count=tables[table])
                    for table, name in texts.BACKUP_COUNT_NAMES.items() if table in tables)


def backup(to: Annotated[Path | None, typer.Option(
        "--to", help=texts.BACKUP_TO_HELP, show_default=False)] = None) -> None:
    """Write one archive of the database and the audio, while the bot may be running."""
    settings = load_cli_settings()
    try:
        with _bar(texts.BACKUP_PROGRESS) as report:
            result = write_backup(settings, to, progress=report)
    except BackupRefused as exc:
        raise stop(str(exc)) from exc
    except BackupError as exc:
        raise _failed(str(exc)) from exc
    say(texts.BACKUP_DONE.format(path=result.path.resolve(), size=decimal(result.size),
                                 files=result.files))
    if result.tables:
        say(texts.BACKUP_COUNTS.format(counts=_counts(result.tables)), "default")
    say(texts.BACKUP_KEEP_SAFE, "dim")


def restore(file: Annotated[Path, typer.Argument(help=texts.RESTORE_FILE_HELP,
                                                 show_default=False)],
            force: Annotated[bool, typer.Option("--force", help=texts.RESTORE_FORCE_HELP)]
            = False) -> None:
    """Bring a backup back into an empty data folder (or, with --force, over the old data)."""
    settings = load_cli_settings()
    try:
        with _bar(texts.RESTORE_PROGRESS) as report:
            result = restore_backup(settings, file, force=force, progress=report)
    except BackupRefused as exc:
        raise stop(str(exc)) from exc
    except BackupError as exc:
        raise _failed(str(exc)) from exc
    say(texts.RESTORE_DONE.format(counts=_counts(result.tables), files=result.files))
    if result.moved_aside is not None:
        say(texts.RESTORE_MOVED_ASIDE.format(path=result.moved_aside.resolve()), "yellow")
