"""The web chat's limits as a member sees them in a real headless Chromium."""

from __future__ import annotations

from dataclasses import replace

from playwright.async_api import Browser, expect

from bot.app import ENGINE
from bot.settings import Settings
from tests.support.app import running
from tests.support.browser import join_room
from tests.support.builders import add_group

ROOM = "fengshu"


async def test_too_fast_a_message_is_refused_with_a_notice_and_stays_in_the_box(
        settings: Settings, chromium: Browser) -> None:
    settings = replace(settings, webchat_messages=2, webchat_window=600)
    async with running(settings) as bot:
        add_group(bot.app[ENGINE], "枫树屋场", chat_id=ROOM)
        page = await chromium.new_page()
        await join_room(page, f"{bot.url}/room/{ROOM}", "张大爷")

        box = page.get_by_test_id("message-box")
        for text in ("村口的路灯坏了", "晚上看不见路"):
            await box.fill(text)
            await page.get_by_test_id("send-button").click()
            await expect(page.get_by_test_id("message").filter(has_text=text)).to_be_visible()
        await box.fill("建议 装两盏新路灯")
        await page.get_by_test_id("send-button").click()

        await expect(page.get_by_test_id("error")).to_contain_text("秒后再发")
        await expect(box).to_have_value("建议 装两盏新路灯")
        await expect(page.get_by_test_id("message")).to_have_count(2)
        await page.close()


async def test_a_name_that_passes_for_the_bot_is_refused_on_the_join_form(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings) as bot:
        add_group(bot.app[ENGINE], "枫树屋场", chat_id=ROOM)
        page = await chromium.new_page()
        await page.goto(f"{bot.url}/room/{ROOM}")
        await page.get_by_test_id("name-input").fill("夜话小助手")
        await page.get_by_test_id("join-button").click()

        error = page.locator("#join-error")
        await expect(error).to_contain_text("请换一个名字")
        await expect(page.get_by_test_id("name-input")).to_be_visible()
        await page.get_by_test_id("name-input").fill("张大爷")
        await page.get_by_test_id("join-button").click()
        await expect(page.get_by_test_id("connection-status")).to_be_hidden()
        await expect(page.get_by_test_id("message-box")).to_be_visible()
        await page.close()
