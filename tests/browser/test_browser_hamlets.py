"""A group's 屋场 in the console on a phone: added with the form, a member placed in one, and the
page still fits the screen."""

from __future__ import annotations

from playwright.async_api import Browser, expect
from sqlmodel import select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Hamlet, Member
from bot.settings import Settings
from tests.browser.test_browser_admin import prepare_village, sign_in
from tests.support.console import console_app


async def test_an_admin_adds_a_hamlet_and_places_a_member_on_a_phone(
        settings: Settings, chromium: Browser) -> None:
    async with console_app(settings) as bot:
        group_id, _ = prepare_village(bot)
        page = await chromium.new_page(viewport={"width": 360, "height": 740},
                                       device_scale_factor=2, is_mobile=True, has_touch=True)
        await sign_in(page, bot.url)
        await page.goto(f"{bot.url}/admin/groups/{group_id}")
        await expect(page.get_by_test_id("hamlets-empty")).to_be_visible()
        for name in ("上湾", "下湾"):
            await page.get_by_test_id("hamlet-add-input").fill(name)
            await page.get_by_test_id("hamlet-add").click()
            await expect(page.get_by_text(f"已添加屋场「{name}」")).to_be_visible()
        await expect(page.get_by_test_id("hamlet-row")).to_have_count(2)

        await page.get_by_test_id("member-query").fill("张")
        await page.get_by_test_id("member-search-button").click()
        row = page.locator('[data-testid="member-row"][data-user="u-zhang"]')
        await expect(row).to_be_visible()
        # The member table with its new 屋场 column still fits the screen.
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        await row.get_by_test_id("member-hamlet-select").select_option(label="下湾")
        await row.get_by_test_id("member-hamlet-save").click()
        await expect(page.get_by_text("张大爷 现在属于「下湾」")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
        await page.close()
    with session(bot.app[ENGINE]) as db:
        member = db.exec(select(Member).where(Member.user_id == "u-zhang")).one()
        hamlet = db.get(Hamlet, member.hamlet_id)
        assert hamlet is not None and hamlet.name == "下湾"
