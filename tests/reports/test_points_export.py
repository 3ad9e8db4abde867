"""The points workbook read back with openpyxl: rankings, every entry with revoked ones marked,
redemptions, totals that agree; and `yehua points export` writing it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database
from bot.domain.rankings import Period
from bot.reports.points_xlsx import write_points_xlsx
from bot.settings import DEFAULT_LESSONS_DIR, load_settings
from tests.support.faults import disk_fills_at
from tests.support.points import seed_village


def sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def test_a_years_workbook_has_both_rankings_every_entry_and_the_shop(
        engine: Engine, tmp_path: Path) -> None:
    seeded = seed_village(engine)
    path = tmp_path / "points.xlsx"
    counts = write_points_xlsx(engine, Period(2026), path, seeded.fengshu)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["个人排名", "户排名", "积分明细", "兑换记录"]
    people = sheet(path, "个人排名")
    assert people[0] == ("村", "名次", "姓名", "户", "积分")
    assert people[1:] == [("枫树村", 1, "张大爷", "张家", 61), ("枫树村", 2, "李婶", "李家", 11),
                          ("枫树村", 3, "王伯", "王家", 5), ("枫树村", 4, "赵叔", "李家", 2),
                          ("枫树村", 5, "刘姐", None, -7)]  # no household
    assert sheet(path, "户排名")[1:] == [("枫树村", 1, "张家", 61), ("枫树村", 2, "李家", 13),
                                       ("枫树村", 3, "王家", 5), ("枫树村", 4, "陈家", 0)]
    entries = sheet(path, "积分明细")
    assert len(entries) == 1 + 10 and counts.entries == 10  # not the other village's 100
    revoked = next(e for e in entries if e[8] == "已撤销")
    assert revoked[1:9] == ("枫树村", "莲花屋场", "王伯", "改厕", 20, None, "王书记", "已撤销")
    assert revoked[10:] == ("王书记", "记错人了") and isinstance(revoked[9], datetime)
    deduction = next(e for e in entries if e[5] == -10)
    assert deduction[4] == "红十条" and deduction[6] == "乱倒垃圾"
    listen = next(e for e in entries if e[4] == "听微党课")
    assert listen[7] == "自动"  # the bot gave it
    # The ranking's total is the sum of the entries that still count.
    assert sum(row[4] for row in people[1:]) == sum(e[5] for e in entries[1:]
                                                    if e[8] == "有效") == 72
    assert sheet(path, "兑换记录")[1:] == [
        (datetime(2026, 11, 20, 20), "枫树村", "枫树屋场", "张大爷", "洗衣粉", 1, 8, "王书记")]


def test_a_month_holds_only_that_month_and_every_village_without_a_group(
        engine: Engine, tmp_path: Path) -> None:
    seed_village(engine)
    path = tmp_path / "october.xlsx"
    write_points_xlsx(engine, Period(2026, 10), path)
    assert sheet(path, "个人排名")[1:] == [("枫树村", 1, "张大爷", "张家", 50)]
    everyone = tmp_path / "november.xlsx"
    write_points_xlsx(engine, Period(2026, 11), everyone)
    villages = {row[0] for row in sheet(everyone, "个人排名")[1:]}
    assert villages == {"枫树村", "隔壁村"}  # a group without a village stands for itself
    assert sheet(everyone, "兑换记录")[1][4] == "洗衣粉"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"),
            "YEHUA_LESSONS_DIR": str(DEFAULT_LESSONS_DIR), "COLUMNS": "200"}


def test_the_cli_writes_the_workbook_and_refuses_a_bad_month_or_group(
        env: dict[str, str], tmp_path: Path) -> None:
    engine = open_database(load_settings(env).db_url)
    seed_village(engine)
    engine.dispose()
    out = tmp_path / "2026-11.xlsx"
    runner = CliRunner()
    done = runner.invoke(app, ["points", "export", "--year", "2026", "--month", "11",
                               "--group", "lianhua", "--out", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert "5 人，9 条积分，1 条兑换" in done.output
    assert [row[2] for row in sheet(out, "个人排名")[1:]] == ["张大爷", "李婶", "王伯", "赵叔",
                                                           "刘姐"]
    bad_month = runner.invoke(app, ["points", "export", "--year", "2026", "--month", "13",
                                    "--out", str(tmp_path / "x.xlsx")], env=env)
    assert bad_month.exit_code == 1 and "月份要写 1 到 12" in bad_month.output
    bad_group = runner.invoke(app, ["points", "export", "--year", "2026", "--group", "无此群",
                                    "--out", str(tmp_path / "y.xlsx")], env=env)
    assert bad_group.exit_code == 1 and "没有找到群“无此群”" in bad_group.output
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "y.xlsx").exists()


def test_an_export_on_a_full_disk_fails_and_keeps_the_earlier_workbook_whole(
        engine: Engine, tmp_path: Path) -> None:
    seeded = seed_village(engine)
    out = tmp_path / "2026.xlsx"
    write_points_xlsx(engine, Period(2026), out, seeded.fengshu)
    earlier = out.read_bytes()

    with disk_fills_at(2048), pytest.raises(OSError):  # `yehua points export` says 没法写入…
        write_points_xlsx(engine, Period(2026), out, seeded.fengshu)

    assert out.read_bytes() == earlier  # the secretary's earlier workbook, not half of a new one
    assert sheet(out, "个人排名")[1][2] == "张大爷"
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(out.name)]
    assert left == [out.name]  # no partial file left behind
