"""The console's 积分清单 page in headless Chromium at a phone's width."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import PASSWORD, SECRETARY_LOGIN, prepare_console
from tests.support.points_list import entries
from tests.support.village import ZHANG, joined

PHONE = {"width": 390, "height": 844}


async def test_a_secretary_adds_an_item_and_gives_it_on_a_phone(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_console) as bot, joined(bot.url, ZHANG) as zhang:
        await zhang.say("在")
        page = await chromium.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                       has_touch=True)
        await page.goto(bot.url + "/admin/points")
        await page.locator("input[name=username]").fill(SECRETARY_LOGIN[0])
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("form button[type=submit]").last.click()
        await page.get_by_test_id("points-group").select_option(label="枫树村大群")
        await page.get_by_test_id("points-group-show").click()
        await expect(page.get_by_test_id("points-item")).to_have_count(3)  # the built-ins
        form = page.get_by_test_id("points-add-form")
        await form.get_by_test_id("item-name").fill("注册国家反诈APP")
        await form.get_by_test_id("item-points").fill("5")
        await form.get_by_test_id("item-daily").fill("1")
        await form.get_by_test_id("item-photo").check()
        await form.get_by_test_id("item-add").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("已添加「注册国家反诈APP」")
        item = page.locator('[data-testid=points-item][data-name="注册国家反诈APP"]')
        await expect(item).to_contain_text("加 5 分")
        await expect(item).to_contain_text("要照片为证")
        award = page.get_by_test_id("points-award-form")
        await award.get_by_test_id("award-item").select_option(label="注册国家反诈APP（加 5 分）")
        await award.locator(f'input[value="{ZHANG[0]}"]').check()
        await award.get_by_test_id("award-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("要有照片为证")
        award = page.get_by_test_id("points-award-form")
        await award.get_by_test_id("award-item").select_option(label="注册国家反诈APP（加 5 分）")
        await award.locator(f'input[value="{ZHANG[0]}"]').check()
        await award.get_by_test_id("award-photo").check()
        await award.get_by_test_id("award-note").fill("帮他装好了")
        await award.get_by_test_id("award-button").click()
        flash = page.get_by_test_id("flash")
        await expect(flash).to_contain_text("已给 1 人记「注册国家反诈APP」")
        await expect(page.get_by_test_id("points-entry")).to_contain_text("张大爷")
        assert "帮他装好了" in await zhang.sees("您因「注册国家反诈APP」得了 5 分")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await page.close()
    assert [(e.user_id, e.points) for e in entries(bot.app)] == [(ZHANG[0], 5)]
