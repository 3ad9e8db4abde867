"""A fast row writer for openpyxl's write-only sheets, for the 100,000-row detail sheet.

openpyxl's write-only path builds a Cell object per value and an lxml element per cell: about
25 µs a cell here, so 100,000 rows × 16 columns took 40 s against a 10 s bar (building the
elements alone, without Cell objects, still took 3 s). This writer lets openpyxl write the
sheet's head and tail (columns, frozen panes, filter, hyperlinks) and the workbook around it,
and writes the rows themselves as escaped XML text. It hooks private parts of openpyxl 3.1
(the sheet's writer and its row generator); the report tests read every produced file back
with openpyxl, which would catch a change there.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any, NamedTuple

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import tostring

from bot.reports.rows import is_formula_like, safe_text

Value = str | int | float | datetime | None
# Element text needs &, < and > escaped; a carriage return must be a reference or XML
# parsers turn it into a line feed.
ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


class Link(NamedTuple):
    """A cell showing `text` that opens `url`."""

    text: str
    url: str


class RowStyles(NamedTuple):
    """Style indexes the writer applies: per column, for dates, links, formula-like text."""

    columns: Mapping[int, int]  # 0-based column -> style for its text
    date: int
    link: int
    quoted: Mapping[int, int]  # 0-based column -> that column's text style plus quotePrefix
    header: int  # the first row's


def style_id(ws: WriteOnlyWorksheet, **attributes: Any) -> int:
    """The workbook's index of a cell style (font=…, number_format=…, quotePrefix=…)."""
    probe = WriteOnlyCell(ws)
    for name, value in attributes.items():
        setattr(probe, name, value)
    return int(probe.style_id)


class _TextSheetWriter(WorksheetWriter):
    """openpyxl's sheet writer, on a plain file: elements are serialised, rows come as text."""

    def get_stream(self) -> Generator[IO[bytes] | None, Any, None]:
        with open(self.out, "wb") as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      b'<worksheet xmlns="' + SHEET_MAIN_NS.encode() + b'">')
            try:
                while True:
                    element = yield None
                    if element is True:
                        yield out  # the row writer's turn; it sends None when done
                    elif element is not None:
                        out.write(tostring(element))
            except GeneratorExit:
                pass
            out.write(b"</worksheet>")


def _cell(ref: str, value: Value | Link, styles: RowStyles, column: int, header: bool,
          ws: WriteOnlyWorksheet) -> str:
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="{styles.date}"><v>{to_excel(value, ws.parent.epoch)!r}</v></c>'
    if not isinstance(value, str | Link):
        return f'<c r="{ref}" t="n"><v>{value!r}</v></c>'
    if isinstance(value, Link):
        ws._hyperlinks.append(Hyperlink(ref=ref, target=value.url))
        text, style = safe_text(value.text), styles.link
    else:
        text = safe_text(value)
        style = styles.header if header else styles.columns.get(column, 0)
    if is_formula_like(text):
        # An inline string is never evaluated, and quotePrefix keeps Excel from turning it
        # into a formula when someone edits the cell.
        style = styles.quoted[column]
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return (f'<c r="{ref}" t="inlineStr" s="{style}"><is><t{space}>'
            f"{text.translate(ESCAPES)}</t></is></c>")


def _rows(ws: WriteOnlyWorksheet, styles: RowStyles
          ) -> Generator[None, Sequence[Value | Link], None]:
    letters = [get_column_letter(i) for i in range(1, 16385)]
    out = ws._writer.xf.send(True)
    out.write(b"<sheetData>")
    index = 1
    try:
        while True:
            values = yield
            r = str(index)
            cells = "".join(_cell(letters[c] + r, v, styles, c, index == 1, ws)
                            for c, v in enumerate(values) if v is not None and v != "")
            out.write(f'<row r="{r}">{cells}</row>'.encode("utf-8", "replace"))
            index += 1
    except GeneratorExit:
        if out.closed:  # the workbook was dropped unsaved and its writer went first
            return
    out.write(b"</sheetData>")
    ws._writer.xf.send(None)


def stream_rows(ws: WriteOnlyWorksheet, styles: RowStyles) -> None:
    """From now on `ws.append(values)` goes through the fast writer; saving closes it.

    Set column widths and frozen panes before calling this: they are written first.
    """
    writer = _TextSheetWriter(ws)
    ws._writer = writer
    writer.write_top()
    rows = _rows(ws, styles)
    next(rows)
    ws._rows = rows
