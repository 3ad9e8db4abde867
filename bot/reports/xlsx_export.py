"""The Excel report: a summary sheet with a native chart, and a streamed detail sheet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import texts
from bot.domain.figures import (
    Dimension,
    Figures,
    ReportFilter,
    breakdown,
    describe_period,
    describe_scope,
    figures,
)
from bot.domain.outcomes import PARTS, Outcome, Outcomes, outcomes
from bot.reports.rows import (
    Progress,
    abandon_workbook,
    detail_rows,
    is_formula_like,
    safe_text,
    save_workbook,
)
from bot.reports.sheet import Link, RowStyles, stream_rows, style_id

DIMENSIONS: tuple[Dimension, ...] = ("hamlet", "topic", "night_talk")
DATE_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
DAYS_FORMAT = "0.0"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
DETAIL_WIDTHS = (8, 17, 26, 12, 10, 10, 50, 11, 8, 10, 40, 17, 17, 17, 17, 17, 9, 6, 32, 40)
WRAPPED = (6, 10)  # 内容 and 答复: long text, wrapped rather than cut off
CHART_SERIES = (1, 2, 4)  # 收集, 采纳, 已办结: columns after the label in a breakdown table


def _cell(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _text(ws: WriteOnlyWorksheet, text: str) -> str | WriteOnlyCell:
    """A label from the database (a hamlet, a night talk's topic), never a formula."""
    text = safe_text(text)
    if not is_formula_like(text):
        return text
    cell = _cell(ws, text, quotePrefix=True)
    cell.data_type = "s"
    return cell


def _header(ws: WriteOnlyWorksheet, names: Sequence[str]) -> list[WriteOnlyCell]:
    return [_cell(ws, name, font=BOLD, fill=HEADER_FILL) for name in names]


def _figure_cells(ws: WriteOnlyWorksheet, fig: Figures, lessons: bool) -> list[Any]:
    cells: list[Any] = [fig.collected, fig.adopted, fig.in_progress, fig.done, fig.declined,
                        fig.new]
    for rate in (fig.adoption_rate, fig.completion_rate):
        cells.append(texts.REPORT_NO_RATE if rate is None
                     else _cell(ws, rate, number_format=PERCENT_FORMAT))
    if lessons:
        cells += [fig.lessons_sent, fig.listeners]
    return cells


def _outcome_cells(ws: WriteOnlyWorksheet, o: Outcome) -> list[Any]:
    cells: list[Any] = [texts.REPORT_NO_RATE if n is None else n
                        for n in (o.talks, o.people, o.person_times)]
    cells += [o.raised, o.adopted, o.done, o.declined]
    for rate in (o.adoption_rate, o.completion_rate):
        cells.append(texts.REPORT_NO_RATE if rate is None
                     else _cell(ws, rate, number_format=PERCENT_FORMAT))
    for days in (o.median_days, o.p90_days):
        cells.append(texts.REPORT_NO_RATE if days is None
                     else _cell(ws, round(days, 1), number_format=DAYS_FORMAT))
    cells.append(o.overdue)
    return cells


def _write_outcomes(ws: WriteOnlyWorksheet, result: Outcomes) -> None:
    """Talks, attendance and how fast suggestions were done: in total, per group, hamlet,
    topic."""
    ws.append([])
    ws.append([_cell(ws, texts.OUTCOME_HEADING, font=BOLD)])
    ws.append(_header(ws, ["", *texts.OUTCOME_HEADERS]))
    ws.append([texts.REPORT_TOTAL_ROW, *_outcome_cells(ws, result.total)])
    for part in PARTS:
        ws.append([])
        ws.append([_cell(ws, texts.OUTCOME_BY[part], font=BOLD)])
        ws.append(_header(ws, [texts.OUTCOME_BY_COLUMN[part], *texts.OUTCOME_HEADERS]))
        for label, outcome in result.parts[part]:
            ws.append([_text(ws, label), *_outcome_cells(ws, outcome)])


def _write_summary(ws: WriteOnlyWorksheet, f: ReportFilter, scope: str, total: Figures,
                   parts: dict[Dimension, list[tuple[str, Figures]]],
                   result: Outcomes) -> None:
    ws.column_dimensions["A"].width = 30
    for column in range(2, 14):
        ws.column_dimensions[get_column_letter(column)].width = 11
    ws.append([_cell(ws, texts.REPORT_TITLE, font=Font(bold=True, size=16))])
    ws.append([describe_period(f)])
    ws.append([_text(ws, texts.REPORT_SCOPE.format(scope=scope))])
    ws.append([])
    ws.append([_cell(ws, texts.REPORT_TOTAL_HEADING, font=BOLD)])
    ws.append(_header(ws, ["", *texts.REPORT_FIGURE_HEADERS, *texts.REPORT_LESSON_HEADERS]))
    ws.append([texts.REPORT_TOTAL_ROW, *_figure_cells(ws, total, lessons=True)])
    row = 7
    hamlet_rows = (0, 0)
    for by in DIMENSIONS:
        lessons = by == "hamlet"
        ws.append([])
        ws.append([_cell(ws, texts.REPORT_BY[by], font=BOLD)])
        headers = [texts.REPORT_BY_COLUMN[by], *texts.REPORT_FIGURE_HEADERS]
        ws.append(_header(ws, headers + list(texts.REPORT_LESSON_HEADERS if lessons else ())))
        row += 3
        for label, fig in parts[by]:
            ws.append([_text(ws, label), *_figure_cells(ws, fig, lessons)])
        if lessons:
            hamlet_rows = (row, row + len(parts[by]))
        row += len(parts[by])
    _write_outcomes(ws, result)
    if hamlet_rows[1] > hamlet_rows[0]:
        ws.add_chart(_hamlet_chart(ws, *hamlet_rows), "O5")


def _hamlet_chart(ws: WriteOnlyWorksheet, header_row: int, last_row: int) -> BarChart:
    """Collected, adopted and done side by side for each hamlet."""
    chart = BarChart()
    chart.type = "col"
    chart.title = texts.REPORT_CHART_TITLE
    chart.y_axis.title = texts.REPORT_CHART_AXIS
    chart.width, chart.height = 20, 10
    for offset in CHART_SERIES:
        data = Reference(ws, min_col=1 + offset, min_row=header_row, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row))
    return chart


def _detail_styles(ws: WriteOnlyWorksheet) -> RowStyles:
    wrap = Alignment(wrap_text=True, vertical="top")
    columns = {c: style_id(ws, alignment=wrap) for c in WRAPPED}
    quoted = {c: style_id(ws, quotePrefix=True, **({"alignment": wrap} if c in WRAPPED else {}))
              for c in range(len(DETAIL_WIDTHS))}
    return RowStyles(
        columns=columns, date=style_id(ws, number_format=DATE_FORMAT),
        link=style_id(ws, font=Font(color="0563C1", underline="single")), quoted=quoted,
        header=style_id(ws, font=BOLD, fill=HEADER_FILL))


def _write_detail(ws: WriteOnlyWorksheet, engine: Engine, f: ReportFilter, media_base: str,
                  progress: Progress | None) -> None:
    for column, width in enumerate(DETAIL_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A2"
    stream_rows(ws, _detail_styles(ws))
    ws.append(texts.REPORT_DETAIL_HEADERS)
    rows = 1
    for detail in detail_rows(engine, f, media_base, progress):
        values: list[Any] = list(detail.values())
        if detail.voice.startswith(("http://", "https://")):
            values[-2] = Link(detail.voice, detail.voice)
        if detail.photos and detail.photos[0].startswith(("http://", "https://")):
            # A cell holds one hyperlink: the first photo's; every address is written out.
            values[-1] = Link("\n".join(detail.photos), detail.photos[0])
        ws.append(values)
        rows += 1
    # The filter is written after the rows, so the final count can still go in.
    ws.auto_filter.ref = f"A1:{get_column_letter(len(DETAIL_WIDTHS))}{rows}"


def write_xlsx(engine: Engine, f: ReportFilter, path: Path | str,
               progress: Progress | None = None, *, media_base: str = "") -> Path:
    """Write the Excel report to `path` in bounded memory; `progress(done, total)` per batch.

    `media_base` (e.g. "http://127.0.0.1:8080") turns voice cells into links that open.
    """
    path = Path(path)
    with Session(engine) as db:
        total = figures(db, f)
        parts = {by: breakdown(db, f, by) for by in DIMENSIONS}
        scope = describe_scope(db, f)
        result = outcomes(db, f)
    workbook = Workbook(write_only=True)
    try:
        _write_summary(workbook.create_sheet(texts.REPORT_SHEET_SUMMARY), f, scope, total,
                       parts, result)
        _write_detail(workbook.create_sheet(texts.REPORT_SHEET_DETAIL), engine, f, media_base,
                      progress)
        save_workbook(workbook, path)
    except BaseException:  # rows go to scratch files as they are added: a full disk stops them
        abandon_workbook(workbook)
        raise
    return path
