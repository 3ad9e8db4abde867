"""Suggestion reports (建议办理情况): the figures, and exports to Excel, Word and CSV.

The pieces live in `bot.domain.figures` (counts and rates), `rows` (the streamed detail),
`xlsx_export`, `docx_export` and `csv_export`; this module is the one to import.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from bot.domain.figures import (
    Dimension,
    Figures,
    ReportError,
    ReportFilter,
    breakdown,
    check_day,
    describe_period,
    describe_scope,
    figures,
    percent,
)
from bot.reports.csv_export import write_csv
from bot.reports.rows import DetailRow, Progress, count_rows, detail_rows, full_disk_as_oserror

FORMATS = ("xlsx", "docx", "csv")


# openpyxl, python-docx and lxml cost ~20 MB in every process: loaded on the first export only.


def write_xlsx(engine: Engine, f: ReportFilter, path: Path | str,
               progress: Progress | None = None, *, media_base: str = "") -> Path:
    """The Excel report (see bot.reports.xlsx_export); OSError if it cannot be written."""
    from bot.reports.xlsx_export import write_xlsx as write

    with full_disk_as_oserror():
        return write(engine, f, path, progress, media_base=media_base)


def write_docx(engine: Engine, f: ReportFilter, path: Path | str, *,
               max_rows: int | None = None, media_base: str = "",
               media_dir: Path | None = None) -> Path:
    """The Word report (see docx_export); more than `max_rows` rows is a ReportError. Photos
    show as thumbnails read from `media_dir`, else as links under `media_base`."""
    from bot.reports.docx_export import write_docx as write

    with full_disk_as_oserror():
        if max_rows is None:
            return write(engine, f, path, media_base=media_base, media_dir=media_dir)
        return write(engine, f, path, max_rows=max_rows, media_base=media_base,
                     media_dir=media_dir)


def summary_text(fig: Figures, topics: list[tuple[str, Figures]]) -> str:
    """The figures in a paragraph, as a secretary would write them (see docx_export)."""
    from bot.reports.docx_export import summary_text as summary

    return summary(fig, topics)

__all__ = [
    "FORMATS",
    "DetailRow",
    "Dimension",
    "Figures",
    "Progress",
    "ReportError",
    "ReportFilter",
    "breakdown",
    "check_day",
    "count_rows",
    "describe_period",
    "describe_scope",
    "detail_rows",
    "figures",
    "percent",
    "summary_text",
    "write_csv",
    "write_docx",
    "write_xlsx",
]
