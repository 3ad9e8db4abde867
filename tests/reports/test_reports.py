"""Suggestion reports: the figures a secretary states, and the Excel, Word and CSV files."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database, session
from bot.core.models import (
    Group,
    Suggestion,
    SuggestionStatus,
)
from bot.reports import (
    Figures,
    ReportError,
    ReportFilter,
    breakdown,
    figures,
    write_csv,
    write_docx,
    write_xlsx,
)
from bot.settings import DEFAULT_LESSONS_DIR
from tests.support.reports import (
    FORMULAS,
    TRICKY_REPLY,
    Seeded,
    local,
    seed,
)

YEAR = ReportFilter(date(2026, 1, 1), date(2026, 12, 31))
MEDIA = "http://127.0.0.1:8080"
# What the exports keep of the tricky reply: its tab and newline, not its CR or its \x01.
CLEAN_REPLY = TRICKY_REPLY.replace("\r", "").replace("\x01", "")
S = SuggestionStatus


@pytest.fixture
def data(tmp_path: Path) -> Seeded:
    return seed(f"sqlite:///{tmp_path / 'data' / 'yehua.db'}")


def test_figures_state_collected_adopted_done_and_the_rates(data: Seeded) -> None:
    with session(data.engine) as db:
        fig = figures(db, YEAR)
    assert (fig.collected, fig.adopted, fig.in_progress, fig.done, fig.declined, fig.new) == (
        12, 7, 1, 5, 2, 3)
    assert fig.adoption_rate == pytest.approx(7 / 12)
    assert fig.completion_rate == pytest.approx(5 / 7)
    assert (fig.lessons_sent, fig.listeners) == (3, 6)


def test_rates_are_left_blank_when_nothing_was_collected() -> None:
    fig = Figures.from_counts({})
    assert (fig.collected, fig.adoption_rate, fig.completion_rate) == (0, None, None)


MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NEW_YEARS_EVE = (date(2025, 12, 31), date(2025, 12, 31))


@pytest.mark.parametrize(
    ("period", "group", "hamlet", "topic", "expected"),
    [
        (None, "yangliu", None, None, (5, 2, 0, 2, 1, 2)),
        (None, None, "枫树屋场", None, (7, 5, 5, 0, 2, 4)),
        (None, None, None, "roads", (6, 3, 2, 1, 3, 6)),
        (MARCH, None, None, None, (4, 4, 4, 0, 1, 1)),
        (NEW_YEARS_EVE, None, None, None, (1, 1, 1, 0, 0, 0)),
    ],
)
def test_filters_narrow_the_figures_to_a_group_hamlet_topic_or_period(
    data: Seeded, period: tuple[date, date] | None, group: str | None, hamlet: str | None,
    topic: str | None, expected: tuple[int, ...]
) -> None:
    """expected: collected, adopted, done, declined, lessons sent, listeners."""
    start, end = period or (YEAR.start, YEAR.end)
    f = ReportFilter(start, end, group_id=data.yangliu if group else None, hamlet=hamlet,
                     topic=topic)
    with session(data.engine) as db:
        fig = figures(db, f)
    assert (fig.collected, fig.adopted, fig.done, fig.declined, fig.lessons_sent,
            fig.listeners) == expected


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ReportError, match="晚于"):
        ReportFilter(date(2026, 2, 1), date(2026, 1, 1))


def test_breakdowns_count_per_hamlet_topic_and_night_talk(data: Seeded) -> None:
    with session(data.engine) as db:
        hamlets = dict(breakdown(db, YEAR, "hamlet"))
        topics = dict(breakdown(db, YEAR, "topic"))
        talks = breakdown(db, YEAR, "night_talk")
    assert list(hamlets) == ["枫树屋场", "杨柳屋场"]
    assert (hamlets["枫树屋场"].collected, hamlets["枫树屋场"].done) == (7, 5)
    assert (hamlets["杨柳屋场"].adopted, hamlets["杨柳屋场"].listeners) == (2, 2)
    assert next(iter(topics)) == "道路交通"
    assert {k: v.collected for k, v in topics.items()} == {
        "道路交通": 6, "水利用水": 3, "垃圾环境": 1, "治安安全": 1, "其他": 1}
    assert [(label, fig.collected) for label, fig in talks] == [
        ("修路的事（3月5日 晒谷坪）", 3), ("平时提出（不在夜话中）", 9)]


def _row(sheet: Worksheet, first: str) -> list[object]:
    for row in sheet.iter_rows(values_only=True):
        if row and row[0] == first:
            return list(row)
    raise AssertionError(f"no row starting with {first!r}")


def test_excel_report_has_the_figures_a_chart_and_one_row_per_suggestion(
    data: Seeded, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    path = write_xlsx(data.engine, YEAR, tmp_path / "report.xlsx",
                      lambda done, total: seen.append((done, total)), media_base=MEDIA)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "明细"]
    summary, detail = book["汇总"], book["明细"]
    assert summary["A1"].value == "建议办理情况汇总表"
    assert summary["A2"].value == "统计时间：2026年1月1日至2026年12月31日"
    total = _row(summary, "合计")
    assert total[1:7] == [12, 7, 1, 5, 2, 3]
    assert total[7] == pytest.approx(0.583, abs=5e-4) and total[9:11] == [3, 6]
    assert _row(summary, "杨柳屋场")[1:4] == [5, 2, 1]
    assert _row(summary, "修路的事（3月5日 晒谷坪）")[1] == 3
    (chart,) = summary._charts
    assert chart.tagname == "barChart" and len(chart.series) == 3

    rows = list(detail.iter_rows(values_only=True))
    assert rows[0][:6] == ("编号", "日期", "夜话", "屋场", "提出人", "代提人")
    assert rows[0][-2:] == ("语音", "照片")
    assert [r[0] for r in rows[1:]] == list(range(1, 13))
    assert detail.freeze_panes == "A2"
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["日期"] == datetime(2026, 3, 5, 20, 10)
    assert first["采纳时间"] == datetime(2026, 3, 6, 20, 10)
    assert first["办结时间"] == datetime(2026, 3, 7, 20, 10)
    assert first["状态"] == "已办结" and first["类别"] == "道路交通"
    assert first["夜话"] == "修路的事（3月5日 晒谷坪）"
    assert rows[3][4:6] == ("李四", "刘话事")
    assert detail["S6"].value == f"{MEDIA}/media/voice-5.ogg"
    assert detail["S6"].hyperlink.target == f"{MEDIA}/media/voice-5.ogg"
    assert seen and seen[-1] == (12, 12)


def test_excel_never_turns_a_suggestion_into_a_formula(data: Seeded, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_xlsx(data.engine, YEAR, tmp_path / "r.xlsx"))
    texts = {cell.value: cell for row in book["明细"].iter_rows(min_col=7, max_col=7)
             for cell in row}
    for text in FORMULAS:
        cell = texts[text]
        assert cell.data_type == "s" and cell.quotePrefix, text
    reply = book["明细"]["K9"]
    assert reply.value == CLEAN_REPLY and reply.quotePrefix


def test_excel_summary_labels_are_never_formulas_either(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'labels.db'}")
    with session(engine) as db:
        group = Group(platform="web", chat_id="x", name="x", hamlet="=1+2")
        db.add(group)
        db.flush()
        assert group.id
        db.add(Suggestion(group_id=group.id, hamlet="=1+2", platform="web", chat_id="x",
                          message_id="1", author_id="u", author_name="老王", text="修路",
                          created_at=local(3, 1)))
    summary = openpyxl.load_workbook(write_xlsx(engine, YEAR, tmp_path / "r.xlsx"))["汇总"]
    cells = [c for row in summary.iter_rows() for c in row if c.value == "=1+2"]
    assert len(cells) == 2  # the hamlet in both per-hamlet tables
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells)


def test_word_report_states_the_figures_in_a_sentence_and_lists_each_suggestion(
    data: Seeded, tmp_path: Path
) -> None:
    document = docx.Document(str(write_docx(data.engine, YEAR, tmp_path / "report.docx")))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "建议办理情况汇总表"
    assert "统计时间：2026年1月1日至2026年12月31日" in paragraphs
    summary = next(p for p in paragraphs if p.startswith("本期"))
    assert summary.startswith("本期共收集群众建议12条，采纳7条，采纳率58.3%；"
                              "已办结5条，办结率71.4%，其余2条正在办理；暂不采纳2条，待处理3条。")
    assert "道路交通6条" in summary and "推送微党课3次，群众收听6人次" in summary
    _hamlets, table = document.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["编号", "提出人", "屋场", "建议内容", "状态", "提出日期", "承办人", "期限",
                        "办结日期", "用时（天）", "答复"]
    assert len(cells) == 13
    assert cells[3][:2] == ["3", "李四（刘话事代提）"]
    assert cells[2][3] == FORMULAS[0] and cells[1][4] == "已办结"
    assert cells[1][-1] == "已经办好了"
    body = next(p for p in document.paragraphs if p.text.startswith("本期")).style
    assert body is not None and body.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    normal = document.styles["Normal"].element.rPr.rFonts  # what the table's cells use
    assert normal.get(qn("w:eastAsia")) == "宋体"
    section = document.sections[0]
    assert section.page_width and section.page_height
    # A4 on its side: the table has eleven columns
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (29.7, 21.0)


def test_a_word_table_too_long_to_print_is_refused_with_the_way_out_and_no_file(
    data: Seeded, tmp_path: Path
) -> None:
    out = tmp_path / "report.docx"
    with pytest.raises(ReportError) as refused:
        write_docx(data.engine, YEAR, out, max_rows=11)
    assert "这段时间有 12 条建议" in str(refused.value) and "Excel" in str(refused.value)
    assert not out.exists()
    narrower = ReportFilter(date(2026, 1, 1), date(2026, 12, 31), group_id=data.yangliu)
    assert write_docx(data.engine, narrower, out, max_rows=11).exists()


def test_csv_opens_in_excel_with_chinese_intact_and_formulas_quoted(
    data: Seeded, tmp_path: Path
) -> None:
    path = write_csv(data.engine, YEAR, tmp_path / "report.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["编号", "日期", "夜话"] and len(rows) == 13
    assert rows[1][1] == "2026-03-05 20:10"
    contents = [r[6] for r in rows[1:]]
    for text in FORMULAS:
        assert "'" + text in contents
    assert rows[8][10] == "'" + CLEAN_REPLY


def test_postgres_gives_the_same_report(pg_url: str, tmp_path: Path) -> None:
    data = seed(pg_url)
    with session(data.engine) as db:
        fig = figures(db, YEAR)
        talks = breakdown(db, YEAR, "night_talk")
    assert (fig.collected, fig.adopted, fig.done, fig.lessons_sent, fig.listeners) == (
        12, 7, 5, 3, 6)
    assert talks[0] == ("修路的事（3月5日 晒谷坪）", talks[0][1]) and talks[0][1].collected == 3
    book = openpyxl.load_workbook(write_xlsx(data.engine, YEAR, tmp_path / "pg.xlsx"))
    rows = list(book["明细"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == list(range(1, 13))
    assert rows[1][11] == datetime(2026, 3, 6, 20, 10)  # 采纳时间, from the history
    data.engine.dispose()


def test_a_group_abroad_counts_by_its_own_days(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'abroad.db'}")
    new_york = ZoneInfo("America/New_York")
    with session(engine) as db:
        group = Group(platform="web", chat_id="ny", name="纽约老乡", timezone="America/New_York")
        db.add(group)
        db.flush()
        assert group.id
        # New Year's Eve in New York is already 2027 in Shanghai.
        eve = datetime(2026, 12, 31, 22, tzinfo=new_york).astimezone(UTC)
        db.add(Suggestion(group_id=group.id, platform="web", chat_id="ny", message_id="1",
                          author_id="u", author_name="老王", text="建个群", created_at=eve))
    with session(engine) as db:
        assert figures(db, YEAR).collected == 1
        assert figures(db, ReportFilter(date(2027, 1, 1), date(2027, 1, 1))).collected == 0


@pytest.fixture
def env(tmp_path: Path, data: Seeded) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"),
            "YEHUA_LESSONS_DIR": str(DEFAULT_LESSONS_DIR), "COLUMNS": "200"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", *args], env=env)
    return result.exit_code, result.output


def test_cli_exports_each_format_and_prints_the_figures(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = yehua(env, "--from", "2026-01-01", "--to", "2026-12-31")
    assert code == 0, out
    default = tmp_path / "建议办理情况_2026-01-01_2026-12-31.xlsx"
    assert "58.3%" in out and "71.4%" in out and default.name in out.replace("\n", "")
    assert "提出建议12条，采纳7条（采纳率58.3%）" in out.replace("\n", "")
    assert _row(openpyxl.load_workbook(default)["汇总"], "合计")[1] == 12
    code, out = yehua(env, "--from", "2026-01-01", "--to", "2026-12-31", "--topic", "道路交通",
                      "--format", "csv", "--out", str(tmp_path / "roads.csv"))
    assert code == 0, out
    with (tmp_path / "roads.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 1 + 6
    code, out = yehua(env, "--from", "2026-03-01", "--to", "2026-03-31", "--group", "fengshu",
                      "-f", "docx", "-o", str(tmp_path / "march.docx"))
    assert code == 0, out
    document = docx.Document(str(tmp_path / "march.docx"))
    assert len(document.tables[-1].rows) == 1 + 4
    assert "统计范围：群：枫树屋场群" in [p.text for p in document.paragraphs]


YEAR_ARGS = ("--from", "2026-01-01", "--to", "2026-12-31")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-31"], "日期「2026-13-01」看不懂"),
        (["--from", "2026-12-31", "--to", "2026-01-01"], "晚于"),
        ([*YEAR_ARGS, "--group", "nowhere"], "找不到群"),
        ([*YEAR_ARGS, "--topic", "飞机场"], "没有“飞机场”这个分类"),
        ([*YEAR_ARGS, "--hamlet", "月亮湾"], "没有叫「月亮湾」的屋场"),
        ([*YEAR_ARGS, "--format", "pdf"], "不支持「pdf」"),
        ([*YEAR_ARGS, "--out", "no/such/folder/r.xlsx"], "文件夹 no/such/folder 不存在"),
        (["--from", "0001-01-01", "--to", "2026-12-31"],
         "日期 0001-01-01 超出范围了，请选 2000-01-01 到 2100-12-31 之间的日子。"),
        (["--from", "2026-01-01", "--to", "9999-12-31"], "日期 9999-12-31 超出范围了"),
    ],
)
def test_cli_refuses_bad_requests_in_plain_chinese_and_writes_nothing(
    env: dict[str, str], tmp_path: Path, args: list[str], message: str,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = yehua(env, *args)
    assert code == 1
    assert message in out.replace("\n", "")
    assert not list(tmp_path.glob("建议办理情况_*")) and not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize(("far", "day"), [
    (("--from", "0001-01-01", "--to", "2026-12-31"), "0001-01-01"),
    (("--from", "2026-01-01", "--to", "9999-12-31"), "9999-12-31")])
def test_cli_names_a_date_out_of_range_in_one_line_and_exits_1(
    env: dict[str, str], far: tuple[str, ...], day: str
) -> None:
    result = CliRunner().invoke(app, ["report", *far], env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a refusal, not a crash
    assert result.output.strip().splitlines() == [
        f"日期 {day} 超出范围了，请选 2000-01-01 到 2100-12-31 之间的日子。"]
