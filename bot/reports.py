"""Suggestion reports (建议办理情况): the figures, and exports to Excel, Word and CSV.

The pieces live in `reports_figures` (counts and rates), `reports_rows` (the streamed detail),
`reports_xlsx`, `reports_docx` and `reports_csv`; this module is the one to import.
"""

from __future__ import annotations

from bot.reports_csv import write_csv
from bot.reports_docx import summary_text, write_docx
from bot.reports_figures import (
    Dimension,
    Figures,
    ReportError,
    ReportFilter,
    breakdown,
    describe_period,
    describe_scope,
    figures,
    percent,
)
from bot.reports_rows import DetailRow, Progress, count_rows, detail_rows
from bot.reports_xlsx import write_xlsx

FORMATS = ("xlsx", "docx", "csv")

__all__ = [
    "FORMATS",
    "DetailRow",
    "Dimension",
    "Figures",
    "Progress",
    "ReportError",
    "ReportFilter",
    "breakdown",
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
