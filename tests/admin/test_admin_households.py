"""The 户 page over HTTP: households made, renamed, removed, people placed; the household sheet
downloaded, a wrong one refused whole, the fixed one imported."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlmodel import select

from bot import texts
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group, Household, Member, Role
from bot.domain.villages import join_village, village_of
from bot.settings import Settings
from tests.support import builders
from tests.support.app import RunningApp
from tests.support.console import add_account, console_app, visitor
from tests.support.points_sheets import seed_village, sheet, upload


def placed(bot: RunningApp) -> dict[str, str]:
    """Each placed person's household, by user id."""
    with session(bot.app[ENGINE]) as db:
        homes = {h.id: h.name for h in db.exec(select(Household))}
        return {m.user_id: homes[m.household_id] for m in db.exec(select(Member))
                if m.household_id is not None}


async def test_a_secretary_makes_renames_and_removes_households_and_places_people(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "sec", Role.SECRETARY, "刘书记")
        page = f"/admin/households/{village.id}"
        async with visitor(bot, "sec") as guest:
            status, html = await guest.get("/admin/households")
            assert status == 200 and "枫竹村" in html and "竹林屋场群" in html
            token = await guest.token(page)
            for name in ("张家", "李家"):
                assert (await guest.post(page, {"name": name}, token)).status == 302
            again = await guest.post(page, {"name": "张家"}, token)
            status, html = await guest.get(page)
            assert again.status == 302 and "已经有「张家」这一户了" in html
            with session(bot.app[ENGINE]) as db:
                homes = {h.name: h.id for h in db.exec(select(Household))}
            await guest.post(f"{page}/place", {"user_id": "u-zhang",
                                               "household": str(homes["张家"])}, token)
            status, html = await guest.get(page)
            assert "张大爷 现在属于「张家」" in html
            assert placed(bot) == {"u-zhang": "张家"}  # both of his member rows

            await guest.post(f"{page}/{homes['张家']}/rename", {"name": "张大爷家"}, token)
            await guest.post(f"{page}/{homes['李家']}/remove", {}, token)
            status, html = await guest.get(page)
            assert "张大爷家" in html and 'data-household="李家"' not in html
            assert placed(bot) == {"u-zhang": "张大爷家"}

            await guest.post(f"{page}/place", {"user_id": "u-zhang", "household": ""}, token)
            assert placed(bot) == {}
            nobody = await guest.post(f"{page}/place", {"user_id": "u-nobody",
                                                        "household": ""}, token)
            status, html = await guest.get(page)
            assert nobody.status == 302 and texts.ADMIN_HOUSEHOLD_NO_PERSON in html
            for path, fields in ((f"{page}/place", {"user_id": "u-li", "household": "abc"}),
                                 (f"{page}/9999/rename", {"name": "王家"})):
                await guest.post(path, fields, token)
                status, html = await guest.get(page)
                assert texts.HOUSEHOLD_GONE in html
            assert placed(bot) == {}


async def test_a_village_whose_groups_all_joined_another_is_not_offered(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        seed_village(bot.app[ENGINE])
        # A third group, with the village of its own it gets when added, joins 枫竹村.
        engine = bot.app[ENGINE]
        newcomer = builders.add_group(engine, "松林屋场群", chat_id="songlin")
        with session(engine) as db:
            village_of(db, newcomer)
            elder = db.exec(select(Group).where(Group.chat_id == "fengshu")).one()
            join_village(db, newcomer, elder)
        add_account(bot, "sec", Role.SECRETARY, "刘书记")
        async with visitor(bot, "sec") as guest:
            for page in ("/admin/households", "/admin/bulk-points"):
                status, html = await guest.get(page)
                assert status == 200
                rows = re.findall(r'data-testid="village-link">([^<]+)<', html)
                assert rows == ["枫竹村"], page  # not 松林屋场群's own, now empty
                assert "松林屋场群" in html  # among 枫竹村's groups


async def test_a_facilitator_cannot_change_households(settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "fu", Role.FACILITATOR, "周辅导员")
        async with visitor(bot, "fu") as guest:
            status, _ = await guest.get(f"/admin/households/{village.id}")
            assert status == 403


async def test_the_household_sheet_is_imported_whole_or_not_at_all(settings: Settings) -> None:
    headers = ("户名", "成员")
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "sec", Role.SECRETARY, "刘书记")
        page = f"/admin/households/{village.id}"
        async with visitor(bot, "sec") as guest:
            wrong = [("张家", "张大爷"), ("李家", "李奶奶、赵婶"), ("刘家", "刘芳")]
            status, html = await upload(guest, f"{page}/import", sheet(headers, wrong),
                                        form_page=page)
            assert status == 400
            assert "第4行：村里有几位叫「刘芳」的（编号 u-liu1、u-liu2），请填成员编号" in html
            assert placed(bot) == {}
            fixed = [("张家", "张大爷"), ("李家", "李奶奶，赵婶"), ("刘家", "u-liu1")]
            status, _ = await upload(guest, f"{page}/import", sheet(headers, fixed),
                                   form_page=page)
            assert status == 302
            status, html = await guest.get(page)
            assert texts.ADMIN_HOUSEHOLD_IMPORTED.format(created=3, placed=4) in html
            assert placed(bot) == {"u-zhang": "张家", "u-li": "李家", "u-zhao": "李家",
                                   "u-liu1": "刘家"}
            response = await guest.http.get(f"{bot.url}{page}/sheet.xlsx")
            data = await response.read()
            status, html = await upload(guest, f"{page}/import", b"not a spreadsheet",
                                        form_page=page)
            assert status == 400 and texts.SHEET_NOT_XLSX in html
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(
        min_row=2, max_col=2, values_only=True))
    # The sheet carries the households as they are, ready to edit and send back.
    assert rows == [("刘家", "刘芳"), ("张家", "张大爷"), ("李家", "李奶奶、赵婶")]


async def test_an_admin_places_a_person_from_the_groups_member_list(settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "root", Role.ADMIN, "刘主任")
        group_page = f"/admin/groups/{village.groups[1]}"
        async with visitor(bot, "root") as guest:
            token = await guest.token(f"/admin/households/{village.id}")
            await guest.post(f"/admin/households/{village.id}", {"name": "赵家"}, token)
            status, html = await guest.get(f"{group_page}?q=赵")
            assert status == 200 and 'data-testid="member-household-select"' in html
            found = re.search(r'<option value="(\d+)">赵家</option>', html)
            assert found
            response = await guest.post(
                f"/admin/households/{village.id}/place",
                {"user_id": "u-zhao", "household": found[1], "back": group_page}, token)
            assert response.headers["Location"] == group_page
            status, html = await guest.get(f"{group_page}?q=赵")
            assert "赵婶 现在属于「赵家」。" in html
            assert re.search(r'<option value="\d+" selected>赵家</option>', html)
        assert placed(bot) == {"u-zhao": "赵家"}
