"""`yehua points export`: a year's or a month's points as an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, col, or_, select

from bot import texts
from bot.cli.kit import console, fail, load_cli_settings, os_reason, output_file
from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.rankings import Period
from bot.reports.points_xlsx import write_points_xlsx

YEAR_HELP = "哪一年，如 2026"
MONTH_HELP = "只导出这一个月（1 到 12）；不写就是全年"
GROUP_HELP = "只导出这个群所在的村：群的编号、名称或 chat id"
OUT_HELP = "保存到哪个文件；不写就用 积分_年份.xlsx"
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _group_id(db: Session, key: str) -> int:
    condition = or_(col(Group.chat_id) == key, col(Group.name) == key)
    if key.isdigit():
        condition = or_(condition, col(Group.id) == int(key))
    found = db.exec(select(Group).where(condition)).first()
    if found is None or found.id is None:
        raise fail(texts.EXPORT_UNKNOWN_GROUP.format(key=key))
    return found.id


def export(
    year: Annotated[int, typer.Option("--year", "-y", help=YEAR_HELP)],
    month: Annotated[int | None, typer.Option("--month", "-m", help=MONTH_HELP)] = None,
    group: Annotated[str | None, typer.Option("--group", "-g", help=GROUP_HELP)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=OUT_HELP)] = None,
) -> None:
    """Export the rankings, every entry and every redemption of a year or month as Excel."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise fail(texts.EXPORT_BAD_YEAR.format(year=year))
    if month is not None and not 1 <= month <= 12:
        raise fail(texts.EXPORT_BAD_MONTH.format(month=month))
    period = Period(year, month)
    settings = load_cli_settings()
    engine = open_database(settings.db_url)
    try:
        with session(engine) as db:
            group_id = _group_id(db, group) if group is not None else None
        path = output_file(out or Path(texts.EXPORT_FILE_NAME.format(period=period.label())))
        try:
            counts = write_points_xlsx(engine, period, path, group_id)
        except OSError as exc:
            raise fail(texts.EXPORT_CANNOT_WRITE.format(path=path, error=os_reason(exc))
                       ) from exc
    finally:
        engine.dispose()
    console.print(texts.EXPORT_DONE.format(path=path.resolve(), people=counts.people,
                                           entries=counts.entries,
                                           redemptions=counts.redemptions), highlight=False)
