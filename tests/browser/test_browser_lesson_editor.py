"""Writing a lesson in the console in headless Chromium, on a computer and on a phone."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Page, expect
from typer.testing import CliRunner

from bot.app import ENGINE
from bot.cli.main import app as cli
from bot.core.db import session
from bot.core.models import Role
from bot.domain import lesson_library as library
from bot.settings import Settings
from tests.support.console import PASSWORD, add_account, console_app

BODY = ("乡亲们好，今天我们讲一讲汛期的安全常识。\n\n"
        "下大雨的时候，请不要到河边和水塘边去看水。")


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "/admin")
    await page.get_by_test_id("login-username").fill("libo")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-button").click()
    await expect(page.get_by_test_id("viewer-name")).to_have_text("李波")


async def fits_the_screen(page: Page) -> None:
    """Nothing on the page scrolls sideways."""
    wide = await page.evaluate("document.documentElement.scrollWidth")
    shown = await page.evaluate("document.documentElement.clientWidth")
    assert wide <= shown, f"{page.url} is {wide} px wide on a {shown} px screen"


def lessons_list(settings: Settings) -> str:
    """`yehua lessons list` against the bot's own data folder."""
    result = CliRunner().invoke(cli, ["lessons", "list"], env={
        "YEHUA_DATA_DIR": str(settings.data_dir),
        "YEHUA_LESSONS_DIR": str(settings.lessons_dir), "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("width", [1280, 390])
async def test_a_facilitator_writes_checks_previews_saves_edits_and_restores_a_lesson(
        settings: Settings, chromium: Browser, width: int) -> None:
    async with console_app(settings) as bot:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        page = await chromium.new_page(viewport={"width": width, "height": 900})
        problems: list[str] = []  # script errors and refused content (CSP) show up here
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await sign_in(page, bot.url)
        await page.goto(bot.url + "/admin/lessons")
        await page.get_by_test_id("new-lesson").click()
        await fits_the_screen(page)

        await page.get_by_test_id("field-slug").fill("Flood Safety")
        await page.get_by_test_id("field-speaker").fill("李支书")
        await page.get_by_test_id("field-date").fill("2026-06-01")
        await page.get_by_test_id("field-tags").fill("防汛，安全")
        await page.get_by_test_id("field-summary").fill("汛期怎么保平安")
        await page.get_by_test_id("field-body").fill(BODY)
        await expect(page.get_by_test_id("body-count")).to_contain_text(f"共 {len(BODY)} 字")
        await page.get_by_test_id("save-button").click()
        await expect(page.get_by_test_id("problem-slug")).to_contain_text("文件名")
        await expect(page.get_by_test_id("problem-title")).to_contain_text("不能是空的")
        await expect(page.get_by_test_id("editor-error")).to_contain_text("什么都没有保存")
        await expect(page.get_by_test_id("field-body")).to_have_value(BODY)
        with session(bot.app[ENGINE]) as db:
            assert library.entry(db, settings.lessons_dir, "flood-safety") is None

        await page.get_by_test_id("field-slug").fill("flood-safety")
        await page.get_by_test_id("field-title").fill("汛期安全")
        await page.get_by_test_id("preview-profile").select_option("湘")
        await page.get_by_test_id("preview-button").click()
        await expect(page.get_by_test_id("editor-note")).to_contain_text("还没有保存")
        await expect(page.get_by_test_id("pair-row")).to_have_count(2)
        await page.get_by_test_id("listen-button").click()
        await expect(page.get_by_test_id("listen-audio")).to_be_visible(timeout=20_000)
        assert "/media/" in (await page.get_by_test_id("listen-audio").get_attribute("src")
                             or "")
        await fits_the_screen(page)

        await page.get_by_test_id("save-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("已保存《汛期安全》第 1 版")
        await expect(page.get_by_test_id("version-author")).to_have_text("李波")
        assert "flood-safety" in await asyncio.to_thread(lessons_list, settings)

        await page.get_by_test_id("edit-lesson").click()
        await page.get_by_test_id("field-body").fill(BODY.replace("看水", "看热闹"))
        await page.get_by_test_id("save-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("第 2 版")
        await expect(page.get_by_test_id("version-row")).to_have_count(2)

        await page.get_by_test_id("version-link").last.click()  # the first version
        await expect(page.get_by_test_id("version-text")).to_contain_text("看水")
        await fits_the_screen(page)
        await page.get_by_test_id("restore-version").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("恢复成最新的第 3 版")
        await expect(page.get_by_test_id("posted-text").last).to_contain_text("看水")
        # The refused form answers 400 on purpose (nothing saved): Chromium logs that status.
        assert [p for p in problems if "status of 400" not in p] == []

    async with console_app(settings) as bot:  # a restart keeps the lesson and its history
        page = await chromium.new_page(viewport={"width": width, "height": 900})
        await sign_in(page, bot.url)
        await page.goto(bot.url + "/admin/lessons/flood-safety")
        await expect(page.get_by_test_id("lesson-title")).to_have_text("汛期安全")
        await expect(page.get_by_test_id("version-row")).to_have_count(3)
