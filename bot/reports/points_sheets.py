"""The points spreadsheets of the console: the award and household templates it offers, and
the uploaded copies read back into rows.

Reading never trusts the file: anything but an XLSX, a missing header or too many rows is a
SheetError with a plain Chinese message.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from bot.core.models import Member, PointsItem, Role
from bot.domain.bulk_awards import AwardRow
from bot.domain.households import HouseholdRow
from bot.reports.rows import is_formula_like, safe_text

MAX_ROWS = 2000
UPLOAD_MAX = 1024 * 1024  # bytes; a village's sheet is a few dozen kilobytes
UNPACKED_MAX = 30 * 1024 * 1024  # bytes inside the XLSX: a small file may unpack enormous
AWARD_HEADERS = ("姓名或成员编号", "积分项目", "理由", "日期（可空）")
HOUSEHOLD_HEADERS = ("户名", "成员")
PEOPLE_SPLIT = re.compile(r"[、，,；;\n]+")
DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REFERENCE = "参考"


class SheetError(ValueError):
    """An upload that cannot be read as the sheet asked for; the message is Chinese."""


def _put(ws: Worksheet, row: int, column: int, value: Any) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        value = safe_text(value)
        cell.value = value
        if is_formula_like(value):
            # A name that looks like a formula stays text, never runs.
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value


def _header(ws: Worksheet, headers: Sequence[str], widths: Sequence[int], row: int = 1) -> None:
    for column, (title, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=row, column=column, value=title)
        cell.font, cell.fill = BOLD, HEADER_FILL
        ws.column_dimensions[chr(64 + column)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def award_template(village: str, items: Sequence[PointsItem], people: Sequence[Member],
                   households: dict[int, str]) -> bytes:
    """The award sheet to fill in: one row per award, and a reference sheet of the village's
    items and people; the item column offers the active items as a list."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = texts.BULK_SHEET_TITLE
    _header(ws, AWARD_HEADERS, (18, 18, 30, 14))
    active = [item for item in items if item.active]
    _put(ws, 1, 6, texts.BULK_SHEET_HINT.format(village=village))
    if not active:
        _put(ws, 2, 6, texts.BULK_SHEET_NO_ITEMS)
    ref = wb.create_sheet(REFERENCE)
    _header(ref, texts.BULK_REFERENCE_ITEM_HEADERS, (18, 8, 10, 10, 10, 10))
    for row, item in enumerate(active, start=2):
        values = (item.name, item.points, texts.ADMIN_ROLE_LABELS[Role(item.award_role).value],
                  item.daily_cap, item.yearly_cap, texts.BULK_YES if item.needs_photo else "")
        for column, value in enumerate(values, start=1):
            _put(ref, row, column, value)
    if not active:
        _put(ref, 2, 1, texts.BULK_SHEET_NO_ITEMS)
    for column, title in enumerate(texts.BULK_REFERENCE_PEOPLE_HEADERS, start=8):
        cell = ref.cell(row=1, column=column, value=title)
        cell.font, cell.fill = BOLD, HEADER_FILL
        ref.column_dimensions[chr(64 + column)].width = 16
    for row, person in enumerate(people, start=2):
        _put(ref, row, 8, person.display_name)
        _put(ref, row, 9, person.user_id)
        _put(ref, row, 10, households.get(person.household_id or 0, ""))
    if active:
        choose = DataValidation(type="list", formula1=f"'{REFERENCE}'!$A$2:$A${len(active) + 1}",
                                allow_blank=True, showErrorMessage=True,
                                errorTitle=texts.BULK_SHEET_TITLE,
                                error=texts.BULK_SHEET_PICK_ITEM)
        ws.add_data_validation(choose)
        choose.add(f"B2:B{MAX_ROWS + 1}")
    if people:
        # A member number is also fine, so the list only helps and never refuses.
        names = DataValidation(type="list", formula1=f"'{REFERENCE}'!$H$2:$H${len(people) + 1}",
                               allow_blank=True, showErrorMessage=False)
        ws.add_data_validation(names)
        names.add(f"A2:A{MAX_ROWS + 1}")
    dated = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)",
                           allow_blank=True, showErrorMessage=True,
                           errorTitle=texts.BULK_SHEET_TITLE, error=texts.BULK_SHEET_PICK_DATE)
    ws.add_data_validation(dated)
    dated.add(f"D2:D{MAX_ROWS + 1}")
    for row in range(2, MAX_ROWS + 2):
        ws.cell(row=row, column=4).number_format = "yyyy-mm-dd"
    return _save(wb)


def household_template(people: Sequence[Member], households: dict[int, str]) -> bytes:
    """The household sheet: the households as they are now (so it can be edited and sent
    back), and the village's people for reference."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = texts.HOUSEHOLD_SHEET_TITLE
    _header(ws, HOUSEHOLD_HEADERS, (18, 50))
    _put(ws, 1, 4, texts.HOUSEHOLD_SHEET_HINT)
    placed: dict[int, list[str]] = {hid: [] for hid in households}
    for person in people:
        if person.household_id in placed:
            placed[person.household_id].append(person.display_name)
    for row, (hid, name) in enumerate(sorted(households.items(), key=lambda h: h[1]), start=2):
        _put(ws, row, 1, name)
        _put(ws, row, 2, "、".join(placed[hid]))
    ref = wb.create_sheet(REFERENCE)
    _header(ref, texts.BULK_REFERENCE_PEOPLE_HEADERS, (16, 16, 16))
    for row, person in enumerate(people, start=2):
        _put(ref, row, 1, person.display_name)
        _put(ref, row, 2, person.user_id)
        _put(ref, row, 3, households.get(person.household_id or 0, ""))
    return _save(wb)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a member number typed as a number comes back as 10001.0
    if isinstance(value, datetime):
        return value.date().isoformat()
    return " ".join(str(value).split())


def _day(value: Any) -> date | str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    found = DATE_TEXT.match(text)
    if found:
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            pass
    return text


def _rows(data: bytes, wanted: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The first sheet's filled rows after the header, by header name, with row numbers."""
    if len(data) > UPLOAD_MAX:
        raise SheetError(texts.SHEET_TOO_BIG.format(n=UPLOAD_MAX // 1024))
    if not data.startswith(b"PK"):
        raise SheetError(texts.SHEET_NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            unpacked = sum(entry.file_size for entry in packed.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(texts.SHEET_NOT_XLSX) from exc
    if unpacked > UNPACKED_MAX:
        raise SheetError(texts.SHEET_TOO_BIG.format(n=UPLOAD_MAX // 1024))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SheetError(texts.SHEET_NOT_XLSX) from exc
    try:
        ws = wb.worksheets[0]
        lines = ws.iter_rows(values_only=True)
        header = [_text(v) for v in next(lines, ())]
        columns = {}
        for title in wanted:
            key = title[:2]  # 姓名, 积分, 理由, 日期, 户名, 成员: tolerant of the rest
            found = next((i for i, h in enumerate(header) if h.startswith(key)), None)
            columns[title] = found
        missing = [t for t, i in columns.items() if i is None and "可空" not in t
                   and t != "理由"]
        if missing:
            raise SheetError(texts.SHEET_BAD_HEADER.format(headers="、".join(wanted)))
        count = 0
        for number, line in enumerate(lines, start=2):
            values = {t: (line[i] if i is not None and i < len(line) else None)
                      for t, i in columns.items()}
            if all(_text(v) == "" for v in values.values()):
                continue
            count += 1
            if count > MAX_ROWS:
                raise SheetError(texts.SHEET_TOO_MANY_ROWS.format(n=MAX_ROWS))
            yield number, values
    finally:
        wb.close()


def read_award_rows(data: bytes) -> list[AwardRow]:
    """The award sheet's rows as typed; SheetError when it is not that sheet."""
    who, item, note, day = AWARD_HEADERS
    return [AwardRow(row=number, who=_text(v[who]), item=_text(v[item]),
                     note=_text(v[note]), day=_day(v[day]))
            for number, v in _rows(data, AWARD_HEADERS)]


def read_household_rows(data: bytes) -> list[HouseholdRow]:
    """The household sheet's rows; SheetError when it is not that sheet."""
    name, people = HOUSEHOLD_HEADERS
    rows = []
    for number, v in _rows(data, HOUSEHOLD_HEADERS):
        value = v[people]
        # Typed text keeps its line breaks (one name a line is fine); a number is a member number.
        listed = value if isinstance(value, str) else _text(value)
        names = tuple(n for n in (" ".join(p.split()) for p in PEOPLE_SPLIT.split(listed)) if n)
        rows.append(HouseholdRow(row=number, name=_text(v[name]), people=names))
    return rows
