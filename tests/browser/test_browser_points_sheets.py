"""The spreadsheet award page and the 户 page on a 390-px phone: a wrong sheet shows its rows,
the fixed one is stored, households are made and people placed, and nothing is wider than the
screen."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Household, Member, PointsEntry, Role
from bot.settings import Settings
from tests.support.console import PASSWORD, add_account, console_app
from tests.support.points_sheets import XLSX, seed_village, sheet

PHONE = {"width": 390, "height": 844}
HEADERS = ("姓名或成员编号", "积分项目", "理由", "日期（可空）")


async def phone_page(chromium: Browser, url: str, username: str, name: str) -> Page:
    page = await chromium.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    await page.goto(url + "/admin")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-button").click()
    await expect(page.get_by_test_id("viewer-name")).to_have_text(name)
    return page


async def fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


async def test_a_facilitator_uploads_a_sheet_on_a_phone(settings: Settings,
                                                        chromium: Browser) -> None:
    async with console_app(settings) as bot:
        seed_village(bot.app[ENGINE])
        add_account(bot, "fu", Role.FACILITATOR, "周辅导员")
        page = await phone_page(chromium, bot.url, "fu", "周辅导员")
        await page.get_by_test_id("nav-menu-button").click()  # the sections sit behind it
        await page.get_by_test_id("nav-bulk-points").click()
        await page.get_by_test_id("village-link").click()
        await expect(page.get_by_test_id("bulk-template")).to_be_visible()
        await fits(page)

        wrong = sheet(HEADERS, [("张大爷", "改厕", "新修了厕所", None),
                                ("李奶奶", "修路", "", None)])
        await page.get_by_test_id("bulk-file").set_input_files(
            {"name": "加分.xlsx", "mimeType": XLSX, "buffer": wrong})
        await page.get_by_test_id("bulk-upload").click()
        await expect(page.get_by_test_id("sheet-problem")).to_have_text(
            ["第3行：积分清单里没有「修路」"])
        await fits(page)

        fixed = sheet(HEADERS, [("张大爷", "改厕", "新修了厕所", None),
                                ("李奶奶", "返乡报备", "", None)])
        await page.get_by_test_id("bulk-file").set_input_files(
            {"name": "加分.xlsx", "mimeType": XLSX, "buffer": fixed})
        await page.get_by_test_id("bulk-upload").click()
        await expect(page.get_by_test_id("flash")).to_have_text("已记上 2 条，共 15 分。")
        await page.close()
    with session(bot.app[ENGINE]) as db:
        stored = [(e.user_name, e.points, e.by_name) for e in db.exec(select(PointsEntry))]
    assert stored == [("张大爷", 10, "周辅导员"), ("李奶奶", 5, "周辅导员")]


async def test_a_secretary_makes_a_household_and_places_a_person_on_a_phone(
        settings: Settings, chromium: Browser) -> None:
    async with console_app(settings) as bot:
        seed_village(bot.app[ENGINE])
        add_account(bot, "sec", Role.SECRETARY, "刘书记")
        page = await phone_page(chromium, bot.url, "sec", "刘书记")
        await page.get_by_test_id("nav-menu-button").click()  # the sections sit behind it
        await page.get_by_test_id("nav-households").click()
        await page.get_by_test_id("village-link").click()
        await expect(page.get_by_test_id("households-empty")).to_be_visible()
        await page.get_by_test_id("household-add-input").fill("张家")
        await page.get_by_test_id("household-add").click()
        await expect(page.get_by_test_id("flash")).to_have_text("已建「张家」。")

        row = page.locator('[data-testid="person-row"][data-user="u-zhang"]')
        await row.get_by_test_id("person-household").select_option(label="张家")
        await row.get_by_test_id("person-place").click()
        await expect(page.get_by_test_id("flash")).to_have_text("张大爷 现在属于「张家」。")
        await expect(page.get_by_test_id("household-people")).to_have_text("1 人：张大爷")
        await fits(page)
        await page.close()
    with session(bot.app[ENGINE]) as db:
        homes = {h.id: h.name for h in db.exec(select(Household))}
        assert {homes[m.household_id] for m in db.exec(select(Member))
                if m.household_id is not None} == {"张家"}
