"""Uploaded points sheets read as people type them: member numbers typed as numbers, dates in
the usual Chinese ways, several people in one cell, blank rows skipped."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.domain.bulk_awards import AwardRow
from bot.domain.households import HouseholdRow
from bot.reports.points_sheets import SheetError, read_award_rows, read_household_rows
from tests.support.points_sheets import sheet

HEADERS = ("姓名或成员编号", "积分项目", "理由", "日期（可空）")


def test_award_rows_are_read_with_their_row_numbers_as_typed() -> None:
    data = sheet(HEADERS, [(10001, "改厕", "  新修了\n厕所 ", "2026年3月5日"),
                           (None, None, None, None),
                           ("李奶奶", "返乡报备", None, "2026/3/6"),
                           ("王小明", "红十条", "乱倒垃圾", datetime(2026, 3, 7, 9, 30)),
                           ("赵婶", "改厕", "", "下周一")])
    assert read_award_rows(data) == [
        AwardRow(2, "10001", "改厕", "新修了 厕所", date(2026, 3, 5)),
        AwardRow(4, "李奶奶", "返乡报备", "", date(2026, 3, 6)),
        AwardRow(5, "王小明", "红十条", "乱倒垃圾", date(2026, 3, 7)),
        AwardRow(6, "赵婶", "改厕", "", "下周一")]


def test_a_sheet_without_the_date_column_still_reads() -> None:
    data = sheet(("姓名", "积分项目", "理由"), [("张大爷", "改厕", "")])
    assert read_award_rows(data) == [AwardRow(2, "张大爷", "改厕", "", None)]


def test_household_rows_take_several_people_however_they_are_separated() -> None:
    data = sheet(("户名", "成员"), [("张家", "张大爷、张大妈,张小宝\n张奶奶"),
                                   ("李家", 10002), ("空户", None)])
    assert read_household_rows(data) == [
        HouseholdRow(2, "张家", ("张大爷", "张大妈", "张小宝", "张奶奶")),
        HouseholdRow(3, "李家", ("10002",)), HouseholdRow(4, "空户", ())]


def test_too_many_rows_are_refused_with_the_limit() -> None:
    data = sheet(("户名", "成员"), [(f"第{n}户", "张大爷") for n in range(2001)])
    with pytest.raises(SheetError, match="最多导入 2000 行"):
        read_household_rows(data)
