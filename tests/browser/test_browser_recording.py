"""The lesson page in headless Chromium: record the speaker from a fake microphone, upload a
file, play it back, and remove it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import LessonRecording, Role
from bot.settings import Settings
from lessons.audio import probe
from tests.support.app import RunningApp
from tests.support.browser import CHROMIUM_ARGS, launch_chromium
from tests.support.console import PASSWORD, add_account, console_app
from tests.support.recordings import spoken_paragraphs

SLUG = "ebike-charging"
FAKE_MICROPHONE = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*CHROMIUM_ARGS, *FAKE_MICROPHONE]) as browser:
        yield browser


async def lesson_page(browser: Browser, bot: RunningApp) -> tuple[Page, list[str]]:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []  # script errors and refused content (CSP) show up here
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{bot.url}/admin/login?next=/admin/lessons/{SLUG}")
    await page.get_by_test_id("login-username").fill("wang")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-button").click()
    await expect(page.get_by_test_id("recording-none")).to_be_visible()
    return page, problems


def recordings(bot: RunningApp) -> list[LessonRecording]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(LessonRecording).order_by(col(LessonRecording.id))))


async def test_a_facilitator_records_the_lesson_in_the_browser_and_it_becomes_its_voice(
        browser: Browser, settings: Settings, tmp_path: Path) -> None:
    async with console_app(settings) as bot:
        add_account(bot, "wang", Role.FACILITATOR, "王老师")
        page, problems = await lesson_page(browser, bot)

        await page.get_by_test_id("recorder-start").click()
        await expect(page.get_by_test_id("recorder-stop")).to_be_visible()
        await expect(page.get_by_test_id("recorder-clock")).to_have_text("0:03", timeout=10_000)
        await page.get_by_test_id("recorder-stop").click()
        await expect(page.get_by_test_id("recorder-preview")).to_be_visible()
        await page.get_by_test_id("recorder-save").click()
        await expect(page.get_by_test_id("recording-current")).to_be_visible(timeout=20_000)
        await expect(page.get_by_test_id("recording-by")).to_have_text("王老师")

        [row] = recordings(bot)
        assert row.original_name == "浏览器录音.webm"
        assert 2.5 < row.duration_s < 6.0
        src = await page.get_by_test_id("recording-audio").get_attribute("src")
        assert src == f"/media/{row.audio_hash}.mp3"
        served = await page.request.get(bot.url + src)
        assert served.status == 200
        assert probe(await served.body()).duration_s == pytest.approx(row.duration_s, abs=0.05)

        # A file from a phone replaces it; the browser take is listed as an earlier one.
        m4a = tmp_path / "张老师.m4a"
        m4a.write_bytes(spoken_paragraphs([8.0, 6.0, 10.0, 5.0, 4.0, 3.0]))
        await page.get_by_test_id("recording-file").set_input_files(m4a)
        await page.get_by_test_id("recording-upload").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("分成 6 段字幕")
        await expect(page.get_by_test_id("recording-duration")).to_have_text("44秒")
        await expect(page.get_by_test_id("recording-old")).to_have_count(1)

        await page.get_by_test_id("recording-remove").click()
        await expect(page.get_by_test_id("recording-none")).to_be_visible()
        await expect(page.get_by_test_id("recording-old")).to_have_count(2)
        assert [r.removed_by for r in recordings(bot)] == ["王老师", "王老师"]
        assert problems == []
