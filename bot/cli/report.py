"""`yehua report`: the suggestion report for a period, as Excel, Word or CSV."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from bot import texts
from bot.cli.kit import console, fail, load_cli_settings, os_reason, output_file
from bot.core.db import open_database, session
from bot.core.models import Group, Hamlet, Suggestion
from bot.domain.outcomes import outcome_text, outcomes
from bot.domain.suggestions import SuggestionError, category_key
from bot.reports import (
    FORMATS,
    Figures,
    ReportError,
    ReportFilter,
    check_day,
    describe_period,
    describe_scope,
    figures,
    percent,
    write_csv,
    write_docx,
    write_xlsx,
)
from bot.settings import Settings

REPORT_HELP = ("导出一段时间的建议办理情况报表：Excel、Word 或 CSV 文件。\n\n"
               "例：yehua report --from 2026-01-01 --to 2026-06-30 -f docx")
FROM_HELP = "开始日期，如 2026-01-01"
TO_HELP = "结束日期（含这一天），如 2026-12-31"
GROUP_HELP = "只统计这个群：群的编号、名称或 chat id"
HAMLET_HELP = "只统计这个屋场"
TOPIC_HELP = "只统计这一类建议，如 roads 或 道路交通"
FORMAT_HELP = "文件格式：xlsx（Excel）、docx（Word）或 csv"
OUT_HELP = "保存到哪个文件； 不写就用 建议办理情况_开始_结束.格式"


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise fail(texts.REPORT_BAD_DATE.format(text=text)) from exc
    try:
        return check_day(day)
    except ReportError as exc:  # e.g. 0001-01-01: no report reaches so far, nor can a clock
        raise fail(str(exc)) from exc


def _group_id(db: Session, key: str) -> int:
    condition = or_(col(Group.chat_id) == key, col(Group.name) == key)
    if key.isdigit():
        condition = or_(condition, col(Group.id) == int(key))
    found = db.exec(select(Group).where(condition)).all()
    if not found:
        raise fail(texts.REPORT_UNKNOWN_GROUP.format(key=key))
    if len(found) > 1:
        raise fail(texts.REPORT_MANY_GROUPS.format(key=key))
    assert found[0].id is not None
    return found[0].id


def _check_hamlet(db: Session, hamlet: str) -> None:
    known = set(db.exec(select(Group.hamlet).distinct()).all())
    known |= set(db.exec(select(Hamlet.name).distinct()).all())  # the groups' listed 屋场
    known |= set(db.exec(select(Suggestion.hamlet).distinct()).all())
    if hamlet not in known:
        choices = "、".join(sorted(h for h in known if h)) or "—"
        raise fail(texts.REPORT_UNKNOWN_HAMLET.format(hamlet=hamlet, choices=choices))


def _media_base(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def _figures_table(fig: Figures, title: str) -> Table:
    table = Table(show_header=False)
    table.add_column()
    table.add_column(justify="right")
    values = (fig.collected, fig.adopted, fig.in_progress, fig.done, fig.declined, fig.new,
              percent(fig.adoption_rate), percent(fig.completion_rate), fig.lessons_sent,
              fig.listeners)
    for name, value in zip((*texts.REPORT_FIGURE_HEADERS, *texts.REPORT_LESSON_HEADERS), values,
                           strict=True):
        table.add_row(name, str(value))
    return table


def _export(engine: Engine, f: ReportFilter, kind: str, out: Path, media_base: str,
            media_dir: Path | None = None) -> None:
    if kind == "docx":
        write_docx(engine, f, out, media_base=media_base, media_dir=media_dir)
        return
    writer: Callable[..., Path] = write_xlsx if kind == "xlsx" else write_csv
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(texts.REPORT_WRITING, total=None)
        writer(engine, f, out, lambda done, total: bar.update(task, completed=done, total=total),
               media_base=media_base)


def report(
    start: Annotated[str, typer.Option("--from", help=FROM_HELP)],
    end: Annotated[str, typer.Option("--to", help=TO_HELP)],
    group: Annotated[str | None, typer.Option("--group", "-g", help=GROUP_HELP)] = None,
    hamlet: Annotated[str | None, typer.Option(help=HAMLET_HELP)] = None,
    topic: Annotated[str | None, typer.Option(help=TOPIC_HELP)] = None,
    kind: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", "-o", help=OUT_HELP)] = None,
) -> None:
    """Export the suggestion report (建议办理情况) for a period as Excel, Word or CSV."""
    settings = load_cli_settings()
    kind = kind.strip().lower()
    if kind not in FORMATS:
        raise fail(texts.REPORT_UNKNOWN_FORMAT.format(format=kind))
    first, last = _date(start), _date(end)
    engine = open_database(settings.db_url)
    try:
        with session(engine) as db:
            group_id = _group_id(db, group) if group is not None else None
            if hamlet is not None:
                _check_hamlet(db, hamlet)
            try:
                key = category_key(topic) if topic is not None else None
                f = ReportFilter(first, last, group_id=group_id, hamlet=hamlet, topic=key)
            except (SuggestionError, ReportError) as exc:
                raise fail(str(exc)) from exc
            fig = figures(db, f)
            seeds = outcome_text(outcomes(db, f).total)
            title = texts.REPORT_FIGURES_TITLE.format(period=describe_period(f),
                                                      scope=describe_scope(db, f))
        path = output_file(out or Path(texts.REPORT_FILE_NAME.format(start=first, end=last,
                                                                     ext=kind)))
        try:
            _export(engine, f, kind, path, _media_base(settings), settings.audio_dir)
        except OSError as exc:
            raise fail(texts.EXPORT_CANNOT_WRITE.format(path=path, error=os_reason(exc))
                       ) from exc
        except ReportError as exc:
            raise fail(str(exc)) from exc
    finally:
        engine.dispose()
    console.print(title, highlight=False)
    console.print(_figures_table(fig, title))
    console.print(seeds, highlight=False)
    console.print(texts.REPORT_WRITTEN.format(path=path.resolve()), highlight=False)
