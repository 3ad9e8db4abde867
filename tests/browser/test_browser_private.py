"""Answers for one member in a real headless Chromium: shown to them, marked, kept on reload,
and never shown to the others in the room."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from bot import texts
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.browser import join_room
from tests.support.village import ROOM, prepare_village


async def enter(browser: Browser, bot: RunningApp, name: str) -> Page:
    page = await (await browser.new_context()).new_page()  # each person a browser of their own
    await join_room(page, f"{bot.url}/room/{ROOM}", name)
    return page


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("message-box").fill(text)
    await page.get_by_test_id("send-button").click()


async def test_my_points_are_shown_to_me_alone_and_stay_after_a_reload(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_village) as bot:
        zhang, li = await enter(chromium, bot, "张大爷"), await enter(chromium, bot, "李婶")
        await say(zhang, "积分")
        answer = zhang.get_by_test_id("message").filter(has_text="张大爷，您还没有积分")
        await expect(answer).to_be_visible()
        await expect(answer).to_contain_text(texts.WEB_PRIVATE)
        await say(li, "你们好")
        await expect(zhang.get_by_test_id("message").filter(has_text="你们好")).to_be_visible()
        # Li sees Zhang's question (the room's), never the answer that was his alone.
        await expect(li.get_by_test_id("message").filter(has_text="积分")).to_have_count(1)
        await expect(li.get_by_test_id("message").filter(has_text="您还没有积分")
                     ).to_have_count(0)

        await zhang.reload()
        await expect(zhang.get_by_test_id("message").filter(has_text="张大爷，您还没有积分")
                     ).to_be_visible()
        await li.reload()
        await expect(li.get_by_test_id("message").filter(has_text="你们好")).to_be_visible()
        await expect(li.get_by_test_id("message").filter(has_text="您还没有积分")
                     ).to_have_count(0)
