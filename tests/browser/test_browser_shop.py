"""The 积分超市 page on a phone: a good added, a redemption recorded, and the page fits."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import PointsEntry, Redemption, Role, ShopGood
from bot.settings import Settings
from tests.support.builders import add_member
from tests.support.console import PASSWORD, add_account, add_group, console_app

WIDTH = 390


async def fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, width


async def test_a_secretary_adds_a_good_and_records_a_redemption_on_a_phone(
        settings: Settings, chromium: Browser) -> None:
    async with console_app(settings) as bot:
        add_account(bot, "wenshu", Role.SECRETARY, "周文书")
        group_id = add_group(bot, "雨坛村大群", chat_id="yutan")
        add_member(bot.app[ENGINE], group_id, "u-wang", "王奶奶")
        with session(bot.app[ENGINE]) as db:
            db.add(PointsEntry(group_id=group_id, user_id="u-wang", user_name="王奶奶",
                               reason="listen", ref="d1", points=75))
        page = await chromium.new_page(viewport={"width": WIDTH, "height": 844},
                                       device_scale_factor=2, is_mobile=True, has_touch=True)
        await page.goto(bot.url + "/admin/shop")
        await page.get_by_test_id("login-username").fill("wenshu")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-button").click()
        await expect(page.get_by_test_id("shop-no-goods")).to_be_visible()
        await fits(page)

        await page.get_by_test_id("shop-add-name").fill("洗衣粉")
        await page.get_by_test_id("shop-add-price").fill("30")
        await page.get_by_test_id("shop-add-stock").fill("10")
        await page.get_by_test_id("shop-add-button").click()
        await expect(page.get_by_text("已添加「洗衣粉」。")).to_be_visible()
        await expect(page.get_by_test_id("shop-good")).to_have_count(1)
        await fits(page)

        member = page.get_by_test_id("shop-redeem-member")
        await expect(member).to_contain_text("王奶奶（积分余额 75 分）")
        await page.get_by_test_id("shop-redeem-good").select_option(
            label="洗衣粉（30 分，库存 10）")
        await page.get_by_test_id("shop-redeem-quantity").fill("2")
        await page.get_by_test_id("shop-redeem-button").click()
        await expect(page.get_by_text("已记下：王奶奶 用 60 分换了 洗衣粉 ×2，还剩 15 分。")
                     ).to_be_visible()
        await expect(page.get_by_test_id("shop-recent-line")).to_contain_text(
            "王奶奶 换了 洗衣粉 ×2，用去 60 分")
        await expect(member).to_contain_text("王奶奶（积分余额 15 分）")

        good = page.get_by_test_id("shop-good")
        await good.get_by_test_id("shop-good-stock").fill("20")
        await good.get_by_test_id("shop-good-save").click()
        await expect(page.get_by_text("「洗衣粉」已保存。")).to_be_visible()
        await fits(page)
        await page.close()
    with session(bot.app[ENGINE]) as db:
        assert db.exec(select(ShopGood.stock)).one() == 20
        assert [r.points for r in db.exec(select(Redemption))] == [60]
