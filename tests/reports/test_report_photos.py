"""Photos in the reports: a link column in Excel and CSV, thumbnails in the Word table."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import openpyxl
from sqlalchemy.engine import Engine

from bot.core.db import open_database, session
from bot.core.models import Group, Suggestion
from bot.domain.figures import ReportFilter
from bot.domain.photos import attach_photo, examine
from bot.reports import write_csv, write_docx, write_xlsx
from tests.support.photos import picture

YEAR = ReportFilter(date(2026, 1, 1), date(2026, 12, 31))
MEDIA = "http://127.0.0.1:8080"
RAISED = datetime(2026, 5, 1, 12, tzinfo=UTC)


def seeded(tmp_path: Path) -> tuple[Engine, Path, list[str]]:
    """Three suggestions, the second with two photos kept as the chat keeps them."""
    engine = open_database(f"sqlite:///{tmp_path / 'photos.db'}")
    media = tmp_path / "media"
    media.mkdir()
    names: list[str] = []
    with session(engine) as db:
        group = Group(platform="web", chat_id="v", name="枫树村", hamlet="上屋场")
        db.add(group)
        db.flush()
        assert group.id is not None
        for n, text in enumerate(("修路", "路灯坏了", "清水渠"), 1):
            db.add(Suggestion(group_id=group.id, platform="web", chat_id="v",
                              message_id=str(n), author_id="u", author_name="张大爷",
                              text=text, created_at=RAISED))
        db.flush()
        for shade in (40, 200):
            original = media / f"{shade:032x}.jpg"
            original.write_bytes(picture(800, 600, colour=(shade, shade, 0)))
            shot = examine(original)
            attach_photo(db, suggestion_id=2, picture=shot, uploader_id="u",
                         uploader_name="张大爷", message_id=None, timezone="Asia/Shanghai",
                         per_day=0, now=RAISED)
            names.append(original.name)
    return engine, media, names


def test_the_excel_detail_links_each_suggestions_photos(tmp_path: Path) -> None:
    engine, _media, names = seeded(tmp_path)
    book = openpyxl.load_workbook(write_xlsx(engine, YEAR, tmp_path / "r.xlsx",
                                             media_base=MEDIA))
    sheet = book["明细"]
    header = [c.value for c in sheet[1]]
    column = header.index("照片") + 1
    cells = [sheet.cell(row=r, column=column) for r in (2, 3, 4)]
    assert cells[0].value is None and cells[2].value is None
    assert cells[1].value == "\n".join(f"{MEDIA}/media/{name}" for name in names)
    assert cells[1].hyperlink.target == f"{MEDIA}/media/{names[0]}"

    with open(write_csv(engine, YEAR, tmp_path / "r.csv", media_base=MEDIA),
              encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[2][rows[0].index("照片")] == "\n".join(f"{MEDIA}/media/{n}" for n in names)


def test_the_word_table_shows_thumbnails_or_else_links(tmp_path: Path) -> None:
    engine, media, names = seeded(tmp_path)
    document = docx.Document(str(write_docx(engine, YEAR, tmp_path / "r.docx",
                                            media_base=MEDIA, media_dir=media)))
    table = document.tables[-1]  # the suggestions, after the figures per 屋场
    content = [row.cells[3] for row in table.rows[1:]]
    pictures = [len(cell._tc.xpath(".//pic:pic")) for cell in content]
    assert pictures == [0, 2, 0]
    assert content[1].paragraphs[0].text == "路灯坏了"

    # Without the media folder (a copy of the database elsewhere): the addresses instead.
    document = docx.Document(str(write_docx(engine, YEAR, tmp_path / "links.docx",
                                            media_base=MEDIA)))
    cell = document.tables[-1].rows[2].cells[3]
    assert not cell._tc.xpath(".//pic:pic")
    assert all(f"{MEDIA}/media/{name}" in cell.text for name in names)
