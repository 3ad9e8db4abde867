"""The web chat in a real Chromium while the database is locked: a message that was not saved
is said so, and waits in the box to be sent again."""

from __future__ import annotations

from dataclasses import replace

from playwright.async_api import Browser, expect

from bot import texts
from bot.settings import Settings
from tests.support.app import running
from tests.support.browser import join_room
from tests.support.faults import FAST_BUSY_MS, write_lock
from tests.support.village import ROOM, prepare_village, suggestions


async def test_a_message_the_bot_could_not_save_goes_back_into_the_box(
    settings: Settings, chromium: Browser
) -> None:
    settings = replace(settings, db_busy_timeout_ms=FAST_BUSY_MS)
    async with running(settings, prepare_village) as bot:
        page = await chromium.new_page()
        await join_room(page, f"{bot.url}/room/{ROOM}", "张大爷")
        box = page.get_by_test_id("message-box")
        mine = page.locator("[data-testid=message].mine")  # the member's own messages
        await expect(page.locator("#status")).to_be_hidden()  # connected and greeted

        with write_lock(settings.data_dir / "yehua.db"):
            await box.fill("建议 村口的路灯坏了")
            await page.get_by_test_id("send-button").click()
            await expect(page.locator("#toast")).to_have_text(texts.WEB_NOT_SAVED)
            await expect(box).to_have_value("建议 村口的路灯坏了")
            await expect(mine.filter(has_text="村口的路灯坏了")).to_have_count(0)

        await page.get_by_test_id("send-button").click()  # the fault has cleared: send again
        await expect(mine.filter(has_text="村口的路灯坏了")).to_have_count(1)
        await expect(page.get_by_test_id("message").filter(has_text="第 1 号")).to_be_visible()
        await expect(box).to_have_value("")
        await page.close()
    assert [s.text for s in suggestions(bot.app)] == ["村口的路灯坏了"]
