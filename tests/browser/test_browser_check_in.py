"""The web chat's 签到 button in a real headless Chromium at phone width: shown only while a
night talk is open, a tap counts the member once, and it goes away when the talk closes."""

from __future__ import annotations

from playwright.async_api import Browser, expect
from sqlmodel import select

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import Attendance
from bot.settings import Settings
from tests.chat.test_commands_talks import schedule_talk
from tests.support.app import running
from tests.support.browser import join_room
from tests.support.village import ROOM, prepare_village

PHONE = {"width": 390, "height": 844}


async def test_the_check_in_button_shows_while_a_talk_is_open_and_counts_a_tap_once(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_village) as bot:
        talk_id = schedule_talk(bot, hours_ahead=0.5)
        context = await chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = await context.new_page()
        await join_room(page, f"{bot.url}/room/{ROOM}", "张大爷")
        button = page.get_by_test_id("check-in-button")
        await expect(button).to_be_hidden()  # no talk open: nothing to check in to

        await bot.app[SERVICES].talks.open(talk_id)
        await expect(page.get_by_test_id("message").filter(has_text="夜话开始")).to_be_visible()
        await expect(button).to_be_visible()
        box = await button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 44  # big enough for an old thumb
        await button.click()
        await expect(page.get_by_test_id("message").filter(has_text="签到好了")).to_be_visible()
        await expect(button).to_be_disabled()
        await expect(button).to_have_text("已签到")

        await page.reload()  # the page remembers the tap for this talk
        await expect(button).to_be_disabled()
        with session(bot.app[ENGINE]) as db:
            assert [row.name for row in db.exec(select(Attendance))] == ["张大爷"]

        await bot.app[SERVICES].talks.close(talk_id)
        await expect(page.get_by_test_id("message").filter(has_text="夜话结束")).to_be_visible()
        await expect(button).to_be_hidden()
        await context.close()
