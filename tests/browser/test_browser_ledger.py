"""The public ledger and the console's month figures in headless Chromium at a phone's width."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from bot.admin.core import CONSOLE
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group, Role
from bot.domain.ledger import ledger_key
from bot.settings import Settings
from tests.support.console import PASSWORD, add_account, console_app
from tests.support.outcomes import PHONE, local, seed_village

PHONE_WIDTH = 390


async def phone(chromium: Browser) -> tuple[Page, list[str]]:
    page = await chromium.new_page(viewport={"width": PHONE_WIDTH, "height": 844},
                                   device_scale_factor=3, is_mobile=True, has_touch=True)
    problems: list[str] = []  # script errors and refused content (CSP) show up here
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return page, problems


async def fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, width


async def test_the_ledger_reads_on_a_phone(settings: Settings, chromium: Browser) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        with session(bot.app[ENGINE]) as db:
            group = db.get(Group, village.fengshu)
            assert group is not None
            group.name = "枫树村第一村民小组群" * 3  # a long name must wrap, not widen the page
            db.add(group)
            key = ledger_key(db, group)
        page, problems = await phone(chromium)
        await page.goto(f"{bot.url}/ledger/{key}")
        entries = page.get_by_test_id("ledger-entry")
        await expect(entries).to_have_count(8)
        await expect(entries.first).to_contain_text("第8条建议")
        late = page.locator('[data-number="4"]')
        await expect(late.get_by_test_id("ledger-overdue")).to_have_text("已超过期限")
        await expect(late.get_by_test_id("ledger-handler")).to_have_text("承办：网格员")
        await fits(page)
        text = await page.locator("body").inner_text()
        assert PHONE not in text and "王网格" not in text
        size = await page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.text')).fontSize)")
        assert size >= 18
        box = await late.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
        assert problems == []
        await page.close()


async def test_the_dashboard_figures_fit_a_phone(settings: Settings, chromium: Browser) -> None:
    async with console_app(settings) as bot:
        seed_village(bot.app[ENGINE])
        bot.app[CONSOLE].services.clock = lambda: local(3, 31, 12)
        add_account(bot, "root", Role.ADMIN, "刘主任")
        page, problems = await phone(chromium)
        await page.goto(bot.url + "/admin")
        await page.get_by_test_id("login-username").fill("root")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-button").click()
        await expect(page.get_by_test_id("outcome-people")).to_have_text("21")
        await expect(page.get_by_test_id("outcome-median")).to_have_text("3.0")
        hamlets = page.get_by_test_id("outcome-hamlet")
        await expect(hamlets.locator("tbody tr")).to_have_count(3)
        await expect(hamlets.locator("tbody tr").nth(1)).to_contain_text("杨柳屋场")
        await fits(page)
        await page.goto(f"{bot.url}/admin/groups/1")
        await page.get_by_test_id("ledger-change").click()
        link = page.get_by_test_id("ledger-link")
        await expect(link).to_contain_text("/ledger/")
        await fits(page)
        assert problems == []
        await page.close()
