"""The figures the seeds count by, on a village with known numbers, in Excel and Word too."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy.engine import Engine

from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.ledger import ledger_page
from bot.domain.outcomes import Outcome, Outcomes, outcomes, percentile
from bot.reports import ReportFilter, write_csv, write_docx, write_xlsx
from tests.support.outcomes import Village, local, seed_village

MARCH = ReportFilter(date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def village(engine: Engine) -> Village:
    return seed_village(engine)


def _figures(o: Outcome) -> tuple[object, ...]:
    return (o.talks, o.people, o.person_times, o.raised, o.adopted, o.done, o.declined,
            o.median_days, o.p90_days, o.overdue)


def _march(engine: Engine, f: ReportFilter = MARCH) -> Outcomes:
    with session(engine) as db:
        return outcomes(db, f)


def test_the_total_counts_talks_people_suggestions_and_days(engine: Engine,
                                                             village: Village) -> None:
    result = _march(engine)
    assert _figures(result.total) == (3, 21, 22, 10, 7, 5, 1, 3.0, 10.0, 1)
    assert result.total.adoption_rate == pytest.approx(0.7)
    assert result.total.completion_rate == pytest.approx(5 / 7)


def test_per_group_hamlet_and_topic(engine: Engine, village: Village) -> None:
    parts = _march(engine).parts
    assert {label: _figures(o) for label, o in parts["group"]} == {
        "枫树村群": (2, 15, 16, 8, 6, 4, 1, 4.0, 10.0, 1),
        "石门村群": (1, 6, 6, 2, 1, 1, 0, 2.0, 2.0, 0)}
    # A talk held at a hamlet's name counts for that hamlet; elsewhere, for its group's.
    assert {label: _figures(o) for label, o in parts["hamlet"]} == {
        "枫树屋场": (1, 2, 2, 5, 5, 3, 0, 3.0, 5.0, 1),
        "杨柳屋场": (1, 14, 14, 3, 1, 1, 1, 10.0, 10.0, 0),
        "石门屋场": (1, 6, 6, 2, 1, 1, 0, 2.0, 2.0, 0)}
    assert [label for label, _ in parts["hamlet"]] == ["枫树屋场", "杨柳屋场", "石门屋场"]
    # Topics are the suggestions' own: talks have none.
    assert {label: _figures(o) for label, o in parts["topic"]} == {
        "道路交通": (None, None, None, 6, 5, 3, 1, 3.0, 10.0, 1),
        "水利用水": (None, None, None, 3, 2, 2, 0, 3.5, 5.0, 0),
        "其他": (None, None, None, 1, 0, 0, 0, None, None, 0)}


def test_a_filter_narrows_talks_and_suggestions_alike(engine: Engine, village: Village) -> None:
    one = _march(engine, ReportFilter(MARCH.start, MARCH.end, group_id=village.shimen))
    assert _figures(one.total) == (1, 6, 6, 2, 1, 1, 0, 2.0, 2.0, 0)
    hamlet = _march(engine, ReportFilter(MARCH.start, MARCH.end, hamlet="杨柳屋场"))
    assert _figures(hamlet.total) == (1, 14, 14, 3, 1, 1, 1, 10.0, 10.0, 0)
    april = _march(engine, ReportFilter(date(2026, 4, 1), date(2026, 4, 30)))
    assert _figures(april.total) == (1, 4, 4, 1, 0, 0, 0, None, None, 0)


def test_the_nearest_rank_percentile() -> None:
    assert percentile([], 0.9) is None
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 12)], 0.9) == 10.0


def _section(rows: list[tuple[object, ...]], heading: str) -> list[tuple[object, ...]]:
    """The rows of the summary sheet after `heading`, up to the next blank line."""
    start = next(i for i, row in enumerate(rows) if row[0] == heading)
    end = next((i for i in range(start + 1, len(rows)) if not any(rows[i])), len(rows))
    return rows[start + 1:end]


def test_the_excel_summary_sheet_has_the_figures(engine: Engine, village: Village,
                                                 tmp_path: Path) -> None:
    path = write_xlsx(engine, MARCH, tmp_path / "march.xlsx")
    book = openpyxl.load_workbook(path)
    rows = [tuple(r) for r in book["汇总"].iter_rows(values_only=True)]
    total = _section(rows, "夜话与办理成效")
    assert total[0][:13] == (None, "夜话场次", "参与人数", "参与人次", "提出", "采纳", "办结",
                             "暂不采纳", "采纳率", "办结率", "办结用时中位数（天）",
                             "90%办结用时（天）", "目前逾期")
    assert total[1][:13] == ("合计", 3, 21, 22, 10, 7, 5, 1, 0.7, pytest.approx(5 / 7), 3.0,
                             10.0, 1)
    hamlets = _section(rows, "按屋场")
    # The older 按屋场 table (suggestions and lessons) comes first; the seeds' one second.
    seeds = _section(rows[rows.index(next(r for r in rows if r[0] == "夜话与办理成效")):],
                     "按屋场")
    assert hamlets[0][0] == "屋场"
    assert [r[:4] for r in seeds[1:]] == [("枫树屋场", 1, 2, 2), ("杨柳屋场", 1, 14, 14),
                                         ("石门屋场", 1, 6, 6)]
    topics = _section(rows[rows.index(next(r for r in rows if r[0] == "夜话与办理成效")):],
                      "按类别")
    assert topics[1][:5] == ("道路交通", "—", "—", "—", 6)
    detail = [tuple(r) for r in book["明细"].iter_rows(values_only=True)]
    headers = detail[0]
    late = {row[0]: row for row in detail[1:]}
    assert late[4][headers.index("逾期")] == "逾期" and late[5][headers.index("逾期")] is None
    assert late[6][headers.index("用时（天）")] == 10.0


def test_the_word_report_states_the_figures_and_dates(engine: Engine, village: Village,
                                                      tmp_path: Path) -> None:
    document = docx.Document(str(write_docx(engine, MARCH, tmp_path / "march.docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert ("本期召开夜话3场，参与群众21人、22人次；提出建议10条，采纳7条（采纳率70.0%），"
            "办结5条（办结率71.4%），办结用时中位数3.0天，90%的建议在10.0天内办结；"
            "目前逾期未办结1条。") in text
    hamlets, table = document.tables
    assert [c.text for c in hamlets.rows[0].cells][:4] == ["屋场", "夜话场次", "参与人数",
                                                           "参与人次"]
    assert [c.text for c in hamlets.rows[2].cells] == [
        "杨柳屋场", "1", "14", "14", "3", "1", "1", "1", "33.3%", "100.0%", "10.0", "10.0", "0"]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["编号", "提出人", "屋场", "建议内容", "状态", "提出日期", "承办人",
                        "期限", "办结日期", "用时（天）", "答复"]
    by_number = {row[0]: row for row in cells[1:]}
    assert by_number["1"][5:10] == ["2026-03-05", "李书记（村委会）", "", "2026-03-06", "1.0"]
    assert by_number["4"][6:10] == ["王网格（网格员）", "2026-03-30（逾期）", "", ""]
    assert by_number["5"][6:8] == ["修路队老张", "2099-01-01"]


def test_csv_rows_carry_the_deadline_and_overdue_mark(engine: Engine, village: Village,
                                                      tmp_path: Path) -> None:
    text = write_csv(engine, MARCH, tmp_path / "march.csv").read_text("utf-8-sig")
    lines = text.splitlines()
    assert "期限,用时（天）,逾期,语音,照片" in lines[0]
    assert next(line for line in lines if line.startswith("4,")).endswith(
        "2026-03-30 12:00,,逾期,,")  # no voice, no photo


def test_postgresql_gives_the_same_figures_and_ledger(pg_url: str) -> None:
    engine = open_database(pg_url)
    try:
        village = seed_village(engine)
        result = _march(engine)
        assert _figures(result.total) == (3, 21, 22, 10, 7, 5, 1, 3.0, 10.0, 1)
        assert [label for label, _ in result.parts["hamlet"]] == ["枫树屋场", "杨柳屋场",
                                                                  "石门屋场"]
        with session(engine) as db:
            group = db.get(Group, village.fengshu)
            assert group is not None
            page = ledger_page(db, group, now=local(3, 31, 12))
        assert [e.number for e in page.entries] == [8, 7, 6, 5, 4, 3, 2, 1]
        assert [e.number for e in page.entries if e.overdue] == [4]
    finally:
        engine.dispose()
