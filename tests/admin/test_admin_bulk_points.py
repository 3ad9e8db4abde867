"""Points from a spreadsheet through the console over HTTP: the template read back, a sheet with
one wrong row refused whole, the fixed sheet stored row by row."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import PointsEntry, PointsItem, Role
from bot.settings import Settings
from tests.support.app import RunningApp
from tests.support.console import add_account, console_app, visitor
from tests.support.points_sheets import seed_village, sheet, upload

HEADERS = ("姓名或成员编号", "积分项目", "理由", "日期（可空）")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def unpacks_huge() -> bytes:
    """A small XLSX-looking file that would unpack to 40 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        packed.writestr("xl/sharedStrings.xml", b" " * (40 * 1024 * 1024))
    return out.getvalue()


def entries(bot: RunningApp) -> list[PointsEntry]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(PointsEntry).order_by(col(PointsEntry.id))))


def item_ids(bot: RunningApp) -> dict[str, int]:
    with session(bot.app[ENGINE]) as db:
        return {i.name: i.id or 0 for i in db.exec(select(PointsItem))}


async def test_the_template_lists_the_villages_items_and_people_and_offers_the_items(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "fu", Role.FACILITATOR, "周辅导员")
        async with visitor(bot, "fu") as guest:
            response = await guest.http.get(
                f"{bot.url}/admin/bulk-points/{village.id}/template.xlsx")
            assert response.status == 200
            assert "spreadsheetml" in response.headers["Content-Type"]
            data = await response.read()
    wb = load_workbook(io.BytesIO(data))
    awards, reference = wb.worksheets
    assert [c.value for c in awards[1][:4]] == list(HEADERS)
    listed = {row[0]: row[1] for row in reference.iter_rows(min_row=2, max_col=2,
                                                            values_only=True) if row[0]}
    # Active items only, with their points as they are now; the stopped one is left out.
    assert listed == {"改厕": 10, "红十条": -10, "返乡报备": 5, "注册反诈APP": 20, "门前三包": 3}
    people = [(r[0], r[1]) for r in reference.iter_rows(min_row=2, min_col=8, max_col=9,
                                                         values_only=True) if r[0]]
    assert ("张大爷", "u-zhang") in people and ("刘芳", "u-liu1") in people
    assert len(people) == 6  # 张大爷 is in both groups but one person
    choices = [v for v in awards.data_validations.dataValidation if v.type == "list"]
    assert any("B2" in str(v.sqref) and "参考" in (v.formula1 or "") for v in choices)


async def test_a_village_without_items_gets_a_template_and_a_page_that_say_so(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE], items=False)
        add_account(bot, "fu", Role.FACILITATOR, "周辅导员")
        async with visitor(bot, "fu") as guest:
            status, html = await guest.get(f"/admin/bulk-points/{village.id}")
            assert status == 200 and texts.ADMIN_BULK_NO_ITEMS in html
            response = await guest.http.get(
                f"{bot.url}/admin/bulk-points/{village.id}/template.xlsx")
            data = await response.read()
    wb = load_workbook(io.BytesIO(data))
    assert wb.worksheets[1]["A2"].value == texts.BULK_SHEET_NO_ITEMS


async def test_one_wrong_row_refuses_the_whole_sheet_and_the_fixed_sheet_is_stored(
        settings: Settings) -> None:
    today = datetime.now(SHANGHAI).date()
    earlier = today - timedelta(days=3)
    good = [("张大爷", "改厕", "新修了厕所", None),
            ("u-li", "返乡报备", "春节回村报备", earlier.isoformat()),
            ("u-liu2", "红十条", "乱倒垃圾", datetime.combine(earlier, datetime.min.time()))]
    wrong = [*good[:1], ("张大伯", "改厕", "", None), *good[1:]]
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "sec", Role.SECRETARY, "刘书记")
        page = f"/admin/bulk-points/{village.id}"
        async with visitor(bot, "sec") as guest:
            status, html = await upload(guest, page, sheet(HEADERS, wrong))
            assert status == 400
            assert texts.ADMIN_SHEET_REFUSED in html
            assert "第3行：村里找不到「张大伯」" in html
            assert entries(bot) == []  # nothing stored, not even the good rows

            status, _ = await upload(guest, page, sheet(HEADERS, good))
            assert status == 302
            status, html = await guest.get(page)
            assert texts.ADMIN_BULK_DONE.format(n=3, points=10 + 5 - 10) in html
        stored = entries(bot)
        ids = item_ids(bot)
    assert [(e.user_id, e.item_id, e.points, e.note) for e in stored] == [
        ("u-zhang", ids["改厕"], 10, "新修了厕所"),
        ("u-li", ids["返乡报备"], 5, "春节回村报备"),
        ("u-liu2", ids["红十条"], -10, "乱倒垃圾")]
    assert {(e.by_id, e.by_name, e.reason) for e in stored} == {("console:sec", "刘书记", "item")}
    assert stored[0].created_at.astimezone(SHANGHAI).date() == today
    assert [e.created_at.astimezone(SHANGHAI).date() for e in stored[1:]] == [earlier] * 2
    assert stored[2].group_id == village.groups[1]  # 刘芳 u-liu2 is in the second group
    assert all(e.revoked_at is None for e in stored)


async def test_each_kind_of_wrong_row_is_named_with_its_row_and_nothing_is_stored(
        settings: Settings) -> None:
    today = datetime.now(SHANGHAI).date()
    rows = [("刘芳", "改厕", "", None),                                     # 2: two 刘芳
            ("李奶奶", "旧的卫生评比", "", None),                            # 3: stopped
            ("李奶奶", "红十条", "", None),                                  # 4: secretary's
            ("李奶奶", "改厕", "", (today + timedelta(days=2)).isoformat()),  # 5: not yet
            ("李奶奶", "改厕", "", "三月五号"),                              # 6: unreadable
            ("王小明", "返乡报备", "", None),
            ("王小明", "返乡报备", "", None),                                # 8: daily cap
            ("赵婶", "注册反诈APP", "", None),                               # 9: yearly cap
            ("赵婶", "门前三包", "", None),                                  # 10: needs a photo
            ("", "改厕", "", None),                                          # 11: nobody
            ("李奶奶", "修路", "", None)]                                    # 12: no such item
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        with session(bot.app[ENGINE]) as db:
            app_item = db.exec(select(PointsItem).where(PointsItem.name == "注册反诈APP")).one()
            db.add(PointsEntry(group_id=village.groups[1], user_id="u-zhao", user_name="赵婶",
                               reason="item", ref="earlier", points=20, item_id=app_item.id,
                               created_at=datetime.now(UTC) - timedelta(minutes=5)))
        add_account(bot, "fu", Role.FACILITATOR, "周辅导员")
        async with visitor(bot, "fu") as guest:
            status, html = await upload(guest, f"/admin/bulk-points/{village.id}",
                                        sheet(HEADERS, rows))
        stored = entries(bot)
    assert status == 400
    for row, words in ((2, "u-liu1、u-liu2"), (3, "已经停用"), (4, "书记或文书以上才能给"),
                       (5, "还没到"), (6, "三月五号"), (8, "每天最多 1 次"), (9, "每年最多 1 次"),
                       (10, "要附照片"), (11, "没有填姓名"), (12, "没有「修路」")):
        assert f"第{row}行：" in html and words in html.split(f"第{row}行：")[1].split("<")[0]
    assert "第7行" not in html  # the first 返乡报备 of the day is fine on its own
    assert [e.ref for e in stored] == ["earlier"]


async def test_a_file_that_is_not_the_sheet_is_refused_in_plain_words(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "fu", Role.FACILITATOR, "周辅导员")
        page = f"/admin/bulk-points/{village.id}"
        async with visitor(bot, "fu") as guest:
            status, html = await upload(guest, page, "姓名,积分项目\n张大爷,改厕\n".encode(),
                                        name="加分.csv")
            assert status == 400 and texts.SHEET_NOT_XLSX in html
            status, html = await upload(guest, page, b"PK\x03\x04 not really a zip")
            assert status == 400 and texts.SHEET_NOT_XLSX in html
            status, html = await upload(guest, page, sheet(("名字", "分数"), [("张大爷", 10)]))
            assert status == 400 and "第一行的表头不对" in html
            status, html = await upload(guest, page, b"PK" + b"\0" * (1024 * 1024 + 10))
            assert status == 400 and "文件太大了" in html
            status, html = await upload(guest, page, unpacks_huge())
            assert status == 400 and "文件太大了" in html
        assert entries(bot) == []
