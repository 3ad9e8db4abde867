"""The Word report: a 建议办理情况汇总表 of the kind a branch hands upward."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import texts
from bot.domain.figures import (
    Figures,
    ReportError,
    ReportFilter,
    breakdown,
    describe_period,
    describe_scope,
    figures,
    percent,
)
from bot.domain.outcomes import Outcome, days_text, outcome_text, outcomes
from bot.reports.rows import (
    DetailRow,
    count_rows,
    detail_rows,
    replacing,
    safe_text,
    with_raised_by,
)

BODY_FONT = "仿宋"  # the face official documents are set in
TABLE_FONT = "宋体"
TITLE_STYLE = "报表标题"
BODY_STYLE = "报表正文"
HEADER_STYLE = "表头"
# 编号 提出人 屋场 建议内容 状态 提出日期 承办人 期限 办结日期 用时 答复: 24.7 cm, landscape A4
WIDTHS_CM = (1.2, 2.2, 1.8, 5.4, 1.4, 2.0, 2.2, 2.1, 2.0, 1.2, 3.2)
HAMLET_WIDTHS_CM = (2.9, *([1.8] * 12))  # 屋场 and the twelve figures: 24.5 cm
DATE_FORMAT = "%Y-%m-%d"
BLANK_DATE = "　　年　　月　　日"
# A table handed upward is printed and read; past this many rows Word takes minutes and the
# writer needs about 100 MB per 10,000 rows (python-docx holds the document in memory).
DOCX_MAX_ROWS = 5000
PHOTO_WIDTH_CM = 2.4  # a thumbnail in the 建议内容 cell: two fit side by side


def summary_text(fig: Figures, topics: list[tuple[str, Figures]]) -> str:
    """The figures in a paragraph, as a secretary would write them."""
    if fig.collected == 0:
        text = texts.REPORT_SUMMARY_NONE
    else:
        text = texts.REPORT_SUMMARY.format(
            collected=fig.collected, adopted=fig.adopted, adoption=percent(fig.adoption_rate),
            done=fig.done, completion=percent(fig.completion_rate))
        if fig.adopted > fig.done:
            text += texts.REPORT_SUMMARY_REST.format(rest=fig.adopted - fig.done)
        text += texts.REPORT_SUMMARY_TAIL.format(declined=fig.declined, new=fig.new)
        items = [texts.REPORT_SUMMARY_TOPIC.format(topic=label, count=t.collected)
                 for label, t in topics if t.collected]
        if items:
            text += texts.REPORT_SUMMARY_TOPICS.format(items="，".join(items))
    if fig.lessons_sent:
        text += texts.REPORT_SUMMARY_LESSONS.format(lessons=fig.lessons_sent,
                                                    listeners=fig.listeners)
    return text


def _outcome_values(o: Outcome) -> list[str]:
    values = [texts.REPORT_NO_RATE if n is None else str(n)
              for n in (o.talks, o.people, o.person_times)]
    values += [str(o.raised), str(o.adopted), str(o.done), str(o.declined),
               percent(o.adoption_rate), percent(o.completion_rate), days_text(o.median_days),
               days_text(o.p90_days), str(o.overdue)]
    return values


def _set_font(style: ParagraphStyle, name: str, size: float, *, bold: bool = False) -> None:
    """Set the face for Latin and East Asian text alike: Word picks w:eastAsia for Chinese."""
    style.font.name = name
    style.font.size = Pt(size)
    style.font.bold = bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _styles(doc: DocumentObject) -> None:
    # Normal is what the table's thousands of cells use, so they need no style of their own;
    # the few paragraphs around the table get theirs.
    _set_font(doc.styles["Normal"], TABLE_FONT, 10.5)
    doc.styles["Normal"].paragraph_format.space_after = Pt(0)
    for name, font, size, bold in ((TITLE_STYLE, TABLE_FONT, 20, True),
                                   (BODY_STYLE, BODY_FONT, 14, False),
                                   (HEADER_STYLE, TABLE_FONT, 10.5, True)):
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        _set_font(style, font, size, bold=bold)
        if name == BODY_STYLE:
            style.paragraph_format.line_spacing = Pt(26)
            style.paragraph_format.space_after = Pt(6)


def _page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    # A4 turned sideways: the table's eleven columns need the width.
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.left_margin = section.right_margin = Cm(2.5)


def _repeat_header(table: Table) -> None:
    """The header row comes again on every page of a long table."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def _new_table(doc: DocumentObject, headers: tuple[str, ...], widths: tuple[float, ...]
               ) -> Table:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)  # rows added later take their widths from here
    for cell, name, width in zip(table.rows[0].cells, headers, widths, strict=True):
        cell.width = Cm(width)
        cell.text = name
        cell.paragraphs[0].style = doc.styles[HEADER_STYLE]
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _repeat_header(table)
    return table


def _hamlet_table(doc: DocumentObject, rows: list[tuple[str, Outcome]]) -> None:
    """The seeds' figures for each 屋场, one row each."""
    doc.add_paragraph(texts.OUTCOME_DOCX_HAMLETS, style=HEADER_STYLE)
    table = _new_table(doc, (texts.OUTCOME_BY_COLUMN["hamlet"], *texts.OUTCOME_HEADERS),
                       HAMLET_WIDTHS_CM)
    for label, outcome in rows:
        for cell, value in zip(table.add_row().cells, [safe_text(label),
                                                       *_outcome_values(outcome)], strict=True):
            cell.text = value
    doc.add_paragraph(style=BODY_STYLE)


def _day(value: datetime | None) -> str:
    return value.strftime(DATE_FORMAT) if value is not None else ""


def _handler(row: DetailRow) -> str:
    if row.handler and row.handler_role:
        return f"{safe_text(row.handler)}（{safe_text(row.handler_role)}）"
    return safe_text(row.handler or row.handler_role)


def _photos(cell: _Cell, row: DetailRow, media_dir: Path | None) -> None:
    """The suggestion's photos under its words: thumbnails when the media folder is at hand,
    else their addresses (only rows with photos read anything)."""
    links = [link for link in row.photos if link]
    if not links:
        return
    paragraph = cell.add_paragraph()
    for link, thumb in zip(links, row.thumbs, strict=False):
        picture = media_dir / thumb if media_dir is not None else None
        if picture is not None and picture.is_file():
            paragraph.add_run().add_picture(str(picture), width=Cm(PHOTO_WIDTH_CM))
            paragraph.add_run(" ")
        else:
            paragraph.add_run(f"{texts.PHOTO_LINK}：{link}\n")


def _table(doc: DocumentObject, engine: Engine, f: ReportFilter, *, media_base: str = "",
           media_dir: Path | None = None) -> None:
    table = _new_table(doc, texts.REPORT_DOCX_HEADERS, WIDTHS_CM)
    for row in detail_rows(engine, f, media_base):
        due = _day(row.due_at) + (texts.REPORT_DOCX_OVERDUE if row.overdue else "")
        values = (str(row.number), safe_text(with_raised_by(row)), safe_text(row.hamlet),
                  safe_text(row.text) or "—", row.status, _day(row.raised_at), _handler(row),
                  due, _day(row.done_at), "" if row.days is None else days_text(row.days),
                  safe_text(row.reply))
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
        _photos(cells[3], row, media_dir)


def write_docx(engine: Engine, f: ReportFilter, path: Path | str, *,
               max_rows: int = DOCX_MAX_ROWS, media_base: str = "",
               media_dir: Path | None = None) -> Path:
    """Write the Word report to `path`: title, period, summary paragraph, then the table.

    A period with more than `max_rows` suggestions is refused with ReportError (nothing is
    written): the Excel report has no such limit.
    """
    path = Path(path)
    rows = count_rows(engine, f)
    if rows > max_rows:
        raise ReportError(texts.REPORT_DOCX_TOO_MANY.format(count=rows, limit=max_rows))
    with Session(engine) as db:
        total = figures(db, f)
        topics = breakdown(db, f, "topic")
        scope = describe_scope(db, f)
        result = outcomes(db, f)
    doc = Document()
    _page(doc)
    _styles(doc)
    title = doc.add_paragraph(texts.REPORT_TITLE, style=TITLE_STYLE)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in (describe_period(f), safe_text(texts.REPORT_SCOPE.format(scope=scope))):
        doc.add_paragraph(line, style=BODY_STYLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    summary = doc.add_paragraph(summary_text(total, topics), style=BODY_STYLE)
    summary.paragraph_format.first_line_indent = Pt(28)  # two characters, as Chinese prose is
    seeds = doc.add_paragraph(outcome_text(result.total), style=BODY_STYLE)
    seeds.paragraph_format.first_line_indent = Pt(28)
    if result.parts["hamlet"]:
        _hamlet_table(doc, result.parts["hamlet"])
    _table(doc, engine, f, media_base=media_base, media_dir=media_dir)
    doc.add_paragraph(style=BODY_STYLE)
    doc.add_paragraph(texts.REPORT_SIGNATURE.format(date=BLANK_DATE), style=BODY_STYLE)
    with replacing(path) as partial:
        doc.save(str(partial))
    return path
