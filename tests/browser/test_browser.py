"""The web group chat in a real headless Chromium: join, hear the lesson, post, reload."""

from __future__ import annotations

from dataclasses import replace

from playwright.async_api import Browser, expect

from bot.settings import Settings
from tests.support.app import running


async def test_member_joins_demo_room_hears_the_lesson_posts_and_sees_history_after_reload(
    settings: Settings, chromium: Browser
) -> None:
    settings = replace(settings, demo=True, demo_delay=2)
    async with running(settings) as bot:
        page = await chromium.new_page()
        await page.goto(bot.url + "/")
        await expect(page.get_by_text("示范屋场").first).to_be_visible()
        await page.get_by_role("link", name="示范屋场").first.click()

        await page.get_by_test_id("name-input").fill("张大爷")
        await page.get_by_test_id("join-button").click()
        await expect(page.get_by_test_id("connection-status")).to_be_hidden()

        audio = page.get_by_test_id("lesson-audio").first
        await expect(audio).to_be_attached(timeout=30_000)
        lesson = page.get_by_test_id("message").filter(has_text="微党课").first
        await expect(lesson).to_be_visible()
        src = await audio.get_attribute("src")
        assert src
        response = await page.request.get(bot.url + src)
        assert response.status == 200
        assert response.headers["content-type"] == "audio/mpeg"
        assert len(await response.body()) > 6000

        await lesson.page.get_by_test_id("play-button").first.click()
        subtitle = page.get_by_test_id("subtitle").first
        await expect(subtitle).to_contain_text("微党课", timeout=10_000)  # the sentence being read

        await page.get_by_test_id("message-box").fill("村口的路灯坏了，晚上看不见路")
        await page.get_by_test_id("send-button").click()
        mine = page.get_by_test_id("message").filter(has_text="村口的路灯坏了")
        await expect(mine).to_be_visible()

        await page.reload()
        await expect(page.get_by_test_id("message").filter(has_text="村口的路灯坏了")
                     ).to_be_visible()
        await expect(page.get_by_test_id("lesson-audio").first).to_be_attached()
        await page.close()
