"""The console's 交办 form and 待办 page in headless Chromium, on a phone's screen."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import PASSWORD, SECRETARY_LOGIN, prepare_console
from tests.support.village import FACILITATOR, ZHANG, joined

PHONE = {"width": 360, "height": 740}


async def test_a_secretary_assigns_on_a_phone_and_the_handler_is_listed_on_the_to_do_page(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_console) as bot, joined(bot.url, ZHANG) as zhang, \
            joined(bot.url, FACILITATOR) as libo:
        await zhang.ask("建议 村口路灯坏了")
        page = await chromium.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                       has_touch=True)
        await page.goto(bot.url + "/admin/suggestions/1")
        await page.locator("input[name=username]").fill(SECRETARY_LOGIN[0])
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("form button[type=submit]").last.click()
        await page.get_by_test_id("status-select").select_option("adopted")
        await page.get_by_test_id("reply-input").fill("好")
        await page.get_by_test_id("status-button").click()
        await expect(page.get_by_test_id("detail-status")).to_have_text("已采纳")
        await page.get_by_test_id("assign-handler").fill("李伯")
        await page.get_by_test_id("assign-due").fill("下周五")
        await page.get_by_test_id("assign-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("已交给 李伯 办")
        await expect(page.get_by_test_id("detail-handler")).to_contain_text("李伯")
        assert "交给您一件事" in await libo.sees("交给您一件事")
        await page.get_by_test_id("nav-menu-button").click()  # the sections sit behind it
        await page.get_by_test_id("nav-todos").click()
        item = page.get_by_test_id("todo-item")
        await expect(item).to_have_count(1)
        await expect(item).to_contain_text("村口路灯坏了")
        await expect(page.get_by_test_id("todo-handler")).to_contain_text("李伯")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await page.close()
