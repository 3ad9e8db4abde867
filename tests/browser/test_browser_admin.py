"""The console in headless Chromium: sign-in, figures, lessons, retries, roles, on a phone too."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Member, Role, SuggestionStatus
from bot.settings import Settings
from scheduler.models import DeliveryStatus
from tests.support.app import RunningApp
from tests.support.console import (
    PASSWORD,
    add_account,
    add_delivery,
    add_group,
    add_suggestions,
    console_app,
)


def prepare_village(bot: RunningApp) -> tuple[int, int]:
    """An admin account, a group with 张大爷 in it, three suggestions, one failed lesson."""
    add_account(bot, "root", Role.ADMIN, "刘主任")
    group_id = add_group(bot, "枫树屋场群")
    with session(bot.app[ENGINE]) as db:
        db.add(Member(group_id=group_id, user_id="u-zhang", display_name="张大爷"))
    add_suggestions(bot, group_id, [SuggestionStatus.ADOPTED, SuggestionStatus.NEW,
                                    SuggestionStatus.DONE])
    return group_id, add_delivery(bot, group_id, DeliveryStatus.FAILED)


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "/admin")
    await expect(page.get_by_test_id("login-form")).to_be_visible()
    await page.get_by_test_id("login-username").fill("root")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-button").click()
    await expect(page.get_by_test_id("viewer-name")).to_have_text("刘主任")


async def test_an_admin_signs_in_reads_figures_compares_a_lesson_retries_and_grants_a_role(
    settings: Settings, chromium: Browser
) -> None:
    async with console_app(settings) as bot:
        group_id, failed = prepare_village(bot)
        page = await chromium.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []  # script errors and refused content (CSP) show up here
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await sign_in(page, bot.url)

        await expect(page.get_by_test_id("figure-collected")).to_have_text("3")
        await expect(page.get_by_test_id("figure-adopted")).to_have_text("2")
        await expect(page.get_by_test_id("figure-adoption-rate")).to_have_text("66.7%")
        await expect(page.get_by_test_id("trend-chart")).to_be_visible()

        await page.get_by_test_id("nav-lessons").click()
        await page.get_by_role("link", name="不听不信不转账，守好自己的钱袋子").click()
        await page.get_by_test_id("profile-tab").filter(has_text="湘").click()
        changed = page.locator(".pair.changed").first
        posted, said = changed.get_by_test_id("posted-text"), changed.get_by_test_id("spoken-text")
        await expect(posted).to_be_visible()
        await expect(said).to_be_visible()
        assert await posted.inner_text() != await said.inner_text()
        left, right = await posted.bounding_box(), await said.bounding_box()
        assert left and right and left["x"] + left["width"] <= right["x"]  # side by side
        assert abs(left["y"] - right["y"]) < 2
        voice = page.locator('[data-testid="voice-row"][data-profile="湘"]')
        await voice.get_by_test_id("voice-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("正在生成「湘」的语音")
        await expect(voice.get_by_test_id("voice-audio")).to_be_attached(timeout=30_000)

        await page.get_by_test_id("nav-calendar").click()
        row = page.locator(f'[data-delivery="{failed}"]')
        await expect(row.get_by_test_id("status")).to_have_text("发送失败")
        await row.get_by_test_id("retry-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("正在重新发送")
        # The page refreshes itself while the post is on its way.
        await expect(page.locator(f'[data-delivery="{failed}"]').get_by_test_id("status")
                     ).to_have_text("已发送", timeout=30_000)

        await page.get_by_test_id("nav-groups").click()
        await page.get_by_test_id("group-link").filter(has_text="枫树屋场群").click()
        await page.get_by_test_id("member-query").fill("张")
        await page.get_by_test_id("member-search-button").click()
        member = page.locator('[data-testid="member-search"] [data-user="u-zhang"]')
        await member.get_by_test_id("role-select").select_option("facilitator")
        await member.get_by_test_id("role-save").click()
        await expect(page.get_by_test_id("flash")).to_have_text(
            "已把 张大爷 在「枫树屋场群」设为话事佬。")
        holders = page.get_by_test_id("role-holders")
        await expect(holders.get_by_role("cell", name="张大爷", exact=True)).to_be_visible()
        with session(bot.app[ENGINE]) as db:
            zhang = db.exec(select(Member).where(Member.user_id == "u-zhang")).one()
            assert zhang.role == Role.FACILITATOR and zhang.group_id == group_id
        assert problems == []
        await page.close()


async def test_console_pages_fit_a_phone_screen(settings: Settings, chromium: Browser) -> None:
    async with console_app(settings) as bot:
        prepare_village(bot)
        page = await chromium.new_page(viewport={"width": 360, "height": 740},
                                       device_scale_factor=2, is_mobile=True, has_touch=True)
        await sign_in(page, bot.url)
        for path in ("/admin", "/admin/lessons", "/admin/lessons/telecom-fraud",
                     "/admin/calendar", "/admin/groups", "/admin/users", "/admin/households",
                     "/admin/bulk-points", "/admin/shop", "/admin/points"):
            await page.goto(bot.url + path)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
            size = await page.evaluate(
                "parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 18
        # On a phone the nav wraps into rows instead of running off the screen.
        links = page.locator(".nav a")
        assert await links.count() == 13
        last = await links.last.bounding_box()
        assert last and last["x"] + last["width"] <= 360
        await page.close()
