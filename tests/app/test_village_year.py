"""A village's points year in the real app, as 雨坛 or 琅塘 would run it: its own list, points
given and taken in the chat and the console, a spreadsheet refused for one bad row and taken
once fixed, households ranked, the last packet of washing powder wanted twice at once, and the
year's workbook read back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlmodel import Session, col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group, PointsEntry, PointsItem
from bot.domain.households import add_household, place_person
from bot.domain.rankings import Period
from bot.domain.shop import Receipt, ShopError, add_good, balance, redeem
from bot.domain.villages import village_id_of
from bot.reports.points_xlsx import write_points_xlsx
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.console_village import prepare_console, signed_in
from tests.support.points_sheets import sheet, upload
from tests.support.village import FACILITATOR, LI, ROOM, SECRETARY, ZHANG, joined, village_id

WANG = ("user-wang-0000003", "王叔")
HEADERS = ("姓名或成员编号", "积分项目", "理由", "日期（可空）")
ITEMS = [  # what the 屋场会 decided this year
    {"name": "改厕", "points": "20", "award_role": "facilitator", "daily_cap": "",
     "yearly_cap": "1"},
    {"name": "返乡报备", "points": "5", "award_role": "facilitator", "daily_cap": "",
     "yearly_cap": ""},
    {"name": "红十条", "points": "-10", "award_role": "secretary", "daily_cap": "",
     "yearly_cap": ""},
]


def counting(bot: RunningApp) -> list[PointsEntry]:
    """The entries given by hand, by sheet or by the console that still count."""
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(PointsEntry).where(
            PointsEntry.reason == "item", col(PointsEntry.revoked_at).is_(None))
            .order_by(col(PointsEntry.id))))


def item_ids(bot: RunningApp) -> dict[str, int]:
    with session(bot.app[ENGINE]) as db:
        return {i.name: i.id or 0 for i in db.exec(select(PointsItem))}


def the_room(db: Session) -> Group:
    return db.exec(select(Group).where(Group.chat_id == ROOM)).one()


async def test_a_village_runs_its_own_points_year(settings: Settings, tmp_path: Path) -> None:
    async with running(settings, prepare_console) as bot, \
            joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li, \
            joined(bot.url, WANG) as wang, joined(bot.url, FACILITATOR) as libo, \
            joined(bot.url, SECRETARY) as secretary, signed_in(bot.url) as console:
        await wang.say("大家好")  # everyone has spoken in the room, so the bot knows them
        group = village_id(bot.app)
        page = f"/admin/points?group={group}"

        # The list, decided at the 屋场会 and typed into the console.
        for item in ITEMS:
            _, html = await console.post("/admin/points/items", {**item, "group": str(group)},
                                         form_on=page)
            assert f'data-name="{item["name"]}"' in html
        ids = item_ids(bot)

        # In the chat: the facilitator adds, the secretary takes away; each told alone.
        assert "改厕" in (await libo.answer("/加分 张大爷 改厕 自家厕所改好了"))["text"]
        assert "得了 20 分" in await zhang.sees("您因「改厕」得了 20 分")
        await secretary.say("/扣分 王叔 红十条 乱倒垃圾")
        assert "被扣了 10 分" in await wang.sees("被扣了 10 分")
        # The yearly cap holds: 改厕 once a year per person.
        assert "已经记满 1 次" in await libo.ask("/加分 张大爷 改厕")

        # In the console: 李婶 and 王叔 both 报备 when they came home.
        fields = [("group", str(group)), ("item", str(ids["返乡报备"])), ("who", LI[0]),
                  ("who", WANG[0]), ("note", "春节返乡"),
                  ("csrf_token", await console.token(page))]
        async with console.http.post(console.url + "/admin/points/award",
                                     data=fields) as response:
            assert response.status == 200 and "已给 2 人" in await response.text()
        await li.sees("您因「返乡报备」得了 5 分")

        # A sheet from the 网格员: one name nobody has, so nothing at all is stored...
        with session(bot.app[ENGINE]) as db:
            village = village_id_of(db, the_room(db))
        before = len(counting(bot))
        rows = [("李婶", "改厕", "厕所改好了", None), ("张大伯", "返乡报备", "", None),
                ("王叔", "改厕", "厕所改好了", None)]
        status, html = await upload(console, f"/admin/bulk-points/{village}",
                                    sheet(HEADERS, rows))
        assert status == 400 and "第3行" in html and "张大伯" in html
        assert len(counting(bot)) == before
        # ...and once the row is fixed, all of it is.
        fixed = [rows[0], ("张大爷", "返乡报备", "过年回来了", None), rows[2]]
        status, _ = await upload(console, f"/admin/bulk-points/{village}", sheet(HEADERS, fixed))
        assert status == 302
        given = counting(bot)
        assert len(given) == before + 3
        assert {(e.user_id, e.item_id, e.points) for e in given[before:]} == {
            (LI[0], ids["改厕"], 20), (ZHANG[0], ids["返乡报备"], 5), (WANG[0], ids["改厕"], 20)}
        assert {e.by_name for e in given[before:]} == {"王书记"}

    # Households, and the shop's last packet wanted by two at once.
    with session(bot.app[ENGINE]) as db:
        zhang_family = add_household(db, village, "张家")
        wang_family = add_household(db, village, "王家")
        place_person(db, village, ZHANG[0], zhang_family.id)
        place_person(db, village, LI[0], zhang_family.id)
        place_person(db, village, WANG[0], wang_family.id)
        add_good(db, village, "洗衣粉", price=10, stock=1)
    gate = threading.Barrier(2)

    def take(who: tuple[str, str]) -> Receipt | ShopError:
        gate.wait()
        try:
            with session(bot.app[ENGINE]) as db:
                return redeem(db, the_room(db), user_id=who[0], user_name=who[1],
                              good_name="洗衣粉", by_id=SECRETARY[0], by_name=SECRETARY[1])
        except ShopError as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(take, [ZHANG, LI]))
    assert sum(isinstance(o, Receipt) for o in outcomes) == 1
    assert "只剩 0 件" in str(next(o for o in outcomes if isinstance(o, ShopError)))
    winner = ZHANG if isinstance(outcomes[0], Receipt) else LI
    with session(bot.app[ENGINE]) as db:
        earned = {ZHANG[0]: 25, LI[0]: 25, WANG[0]: 15}  # the list's points, listening aside
        spent = {ZHANG[0]: 0, LI[0]: 0, WANG[0]: 0, winner[0]: 10}
        for who, points in earned.items():
            assert balance(db, village, who) - _automatic(db, who) == points - spent[who]

    # The year's workbook: people and households ranked by what they earned, every entry,
    # and the one redemption.
    # The village year the points were stored in, not the machine's: they differ for the
    # first eight hours of a village's new year.
    with session(bot.app[ENGINE]) as db:
        zone = ZoneInfo(the_room(db).timezone)
    year = counting(bot)[-1].created_at.astimezone(zone).year
    path = tmp_path / "积分.xlsx"
    write_points_xlsx(bot.app[ENGINE], Period(year), path, group)
    book = openpyxl.load_workbook(path)
    people = {row[2]: row[4] for row in book["个人排名"].iter_rows(min_row=2, values_only=True)}
    with session(bot.app[ENGINE]) as db:
        auto = {who: _automatic(db, who) for who in earned}
    assert people["张大爷"] == 25 + auto[ZHANG[0]] and people["李婶"] == 25 + auto[LI[0]]
    assert people["王叔"] == 15 + auto[WANG[0]]
    families = {row[2]: row[3] for row in book["户排名"].iter_rows(min_row=2, values_only=True)}
    assert families == {"张家": people["张大爷"] + people["李婶"], "王家": people["王叔"]}
    shop = list(book["兑换记录"].iter_rows(min_row=2, values_only=True))
    assert [(row[3], row[4], row[6]) for row in shop] == [(winner[1], "洗衣粉", 10)]
    details = list(book["积分明细"].iter_rows(min_row=2, values_only=True))
    assert sum(1 for row in details if row[4] == "红十条" and row[5] == -10) == 1


def _automatic(db: Session, user_id: str) -> int:
    """Points the bot gave by itself (for raising or listening): not part of the script."""
    rows = db.exec(select(PointsEntry).where(PointsEntry.user_id == user_id,
                                             PointsEntry.reason != "item"))
    return sum(row.points for row in rows)

