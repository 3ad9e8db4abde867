"""The CSV report: the detail sheet's columns, UTF-8 with a BOM so Excel reads the Chinese."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from bot import texts
from bot.domain.figures import ReportFilter
from bot.reports.rows import Progress, detail_rows, is_formula_like, replacing, safe_text

DATE_FORMAT = "%Y-%m-%d %H:%M"


def csv_cell(value: str | int | float | datetime | None) -> str:
    """A value as CSV text, control characters dropped; one a spreadsheet would take for a
    formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, str):
        value = safe_text(value)
        return "'" + value if is_formula_like(value) else value
    return str(value)


def write_csv(engine: Engine, f: ReportFilter, path: Path | str,
              progress: Progress | None = None, *, media_base: str = "") -> Path:
    """Write one row per suggestion to `path`; `progress(done, total)` after each batch."""
    path = Path(path)
    with replacing(path) as partial, partial.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(texts.REPORT_DETAIL_HEADERS)
        for row in detail_rows(engine, f, media_base, progress):
            writer.writerow([csv_cell(value) for value in row.values()])
    return path
