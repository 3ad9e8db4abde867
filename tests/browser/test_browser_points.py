"""The points rankings page in headless Chromium on a phone: a month chosen in the form, both
lists shown, the page no wider than the screen, and the workbook downloaded."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from playwright.async_api import Browser, expect

from bot.app import ENGINE
from bot.core.models import Role
from bot.settings import Settings
from tests.support.console import PASSWORD, add_account, console_app
from tests.support.points import seed_village

PHONE_WIDTH = 360


async def test_a_secretary_reads_a_months_rankings_and_downloads_them_on_a_phone(
        settings: Settings, chromium: Browser, tmp_path: Path) -> None:
    async with console_app(settings) as bot:
        add_account(bot, "wang", Role.SECRETARY, "王书记")
        seed_village(bot.app[ENGINE])
        page = await chromium.new_page(viewport={"width": PHONE_WIDTH, "height": 740},
                                       device_scale_factor=2, is_mobile=True, has_touch=True,
                                       accept_downloads=True)
        await page.goto(bot.url + "/admin/reports")
        await page.get_by_test_id("login-username").fill("wang")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-button").click()
        await page.get_by_test_id("points-rankings-link").click()
        await page.get_by_test_id("points-year").fill("2026")
        await page.get_by_test_id("points-month").select_option("11")
        await page.get_by_test_id("points-show").click()
        village = page.get_by_test_id("points-village").filter(has_text="枫树村")
        await expect(village.get_by_test_id("points-person")).to_have_count(5)
        await expect(village.get_by_test_id("points-household").first).to_contain_text("李家")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, width
        async with page.expect_download() as waiting:
            await page.get_by_test_id("points-download").click()
        download = await waiting.value
        assert download.suggested_filename == "积分_2026年11月.xlsx"
        saved = tmp_path / "saved.xlsx"  # the browser keeps it under a name without extension
        await download.save_as(saved)
        book = openpyxl.load_workbook(saved)
        assert book.sheetnames == ["个人排名", "户排名", "积分明细", "兑换记录"]
        await page.close()
