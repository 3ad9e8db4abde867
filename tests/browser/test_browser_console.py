"""The console in headless Chromium: replies reach the chat tab, reports open, a talk runs."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
from playwright.async_api import Browser, BrowserContext, Page, expect

from bot.settings import Settings
from tests.support.app import running
from tests.support.browser import join_room
from tests.support.console_village import (
    PASSWORD,
    SECRETARY_LOGIN,
    prepare_console,
)


async def raise_in_room(context: BrowserContext, url: str, text: str) -> Page:
    """张大爷 joins the village room and raises suggestion No. 1; the room's page."""
    room = await context.new_page()
    await join_room(room, url + "/room/village", "张大爷")
    await room.get_by_test_id("message-box").fill(text)
    await room.get_by_test_id("send-button").click()
    await expect(room.get_by_test_id("message").filter(has_text="第 1 号")).to_be_visible()
    return room


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "/admin/suggestions")  # asks for a sign-in, then comes back here
    await page.locator("input[name=username]").fill(SECRETARY_LOGIN[0])
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").last.click()
    await expect(page.get_by_test_id("board-total")).to_be_visible()


async def test_secretary_replies_in_the_console_and_the_chat_room_is_told(
    settings: Settings, chromium: Browser
) -> None:
    async with running(settings, prepare_console) as bot:
        context = await chromium.new_context(accept_downloads=True)
        room = await raise_in_room(context, bot.url, "建议 村口路灯坏了，<b>晚上</b>看不见路")

        console = await context.new_page()
        await sign_in(console, bot.url)
        row = console.get_by_test_id("suggestion-row").first
        await expect(row.get_by_test_id("suggestion-text")).to_have_text(
            "村口路灯坏了，<b>晚上</b>看不见路")  # markup shown as the villager typed it
        await row.get_by_test_id("suggestion-link").click()
        await console.get_by_test_id("status-select").select_option("adopted")
        await console.get_by_test_id("reply-input").fill("下个月装新路灯")
        await console.get_by_test_id("status-button").click()
        await expect(console.get_by_test_id("flash")).to_contain_text("群里已经通知")
        await expect(console.get_by_test_id("detail-status")).to_have_text("已采纳")
        await expect(console.get_by_test_id("history-step")).to_contain_text("下个月装新路灯")

        told = room.get_by_test_id("message").filter(has_text="已采纳")
        await expect(told).to_be_visible()  # arrives live, without reloading the room
        await expect(told).to_contain_text("@张大爷")
        await expect(told).to_contain_text("回复：下个月装新路灯")
        await context.close()


async def test_secretary_downloads_each_report_format_and_each_opens(
    settings: Settings, chromium: Browser, tmp_path: Path
) -> None:
    async with running(settings, prepare_console) as bot:
        context = await chromium.new_context(accept_downloads=True)
        await raise_in_room(context, bot.url, "建议 =SUM(A1) 后山水渠堵了")

        page = await context.new_page()
        await sign_in(page, bot.url)
        await page.get_by_test_id("nav-reports").click()
        await page.get_by_test_id("report-show").click()  # this month so far, all groups
        await expect(page.get_by_test_id("figure-0")).to_have_text("1")

        saved: dict[str, Path] = {}
        for kind in ("xlsx", "docx", "csv"):
            await page.get_by_test_id("report-format").select_option(kind)
            async with page.expect_download() as info:
                await page.get_by_test_id("report-download").click()
            download = await info.value
            assert download.suggested_filename.startswith("建议办理情况_")
            assert download.suggested_filename.endswith(f".{kind}")
            saved[kind] = tmp_path / download.suggested_filename
            await download.save_as(saved[kind])

        book = openpyxl.load_workbook(saved["xlsx"])
        total = next(r for r in book["汇总"].iter_rows(values_only=True) if r[0] == "合计")
        assert list(total[1:3]) == [1, 0]  # collected 1, adopted 0
        texts = [row[6] for row in book["明细"].iter_rows(min_row=2, values_only=True)]
        assert texts == ["=SUM(A1) 后山水渠堵了"]
        assert book["明细"]["G2"].data_type == "s"  # a text, never a formula
        summary = next(p.text for p in docx.Document(str(saved["docx"])).paragraphs
                       if p.text.startswith("本期"))
        assert summary.startswith("本期共收集群众建议1条")
        with saved["csv"].open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[1][4] == "张大爷" and rows[1][6] == "'=SUM(A1) 后山水渠堵了"
        await context.close()


async def test_an_open_night_talks_page_shows_suggestions_as_they_arrive(
    settings: Settings, chromium: Browser
) -> None:
    async with running(settings, prepare_console) as bot:
        context = await chromium.new_context()
        page = await context.new_page()
        await sign_in(page, bot.url)
        await page.get_by_test_id("nav-talks").click()
        await page.get_by_test_id("talk-date").fill(
            (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date().isoformat())
        await page.get_by_test_id("talk-group").select_option(label="枫树村大群（上屋场）")
        await page.get_by_test_id("talk-topic").fill("村里修路")
        await page.get_by_test_id("schedule-button").click()
        await expect(page.get_by_test_id("flash")).to_contain_text("夜话已安排")
        await page.get_by_test_id("open-button").click()
        await expect(page.get_by_test_id("talk-status")).to_have_text("进行中")
        await expect(page.get_by_test_id("live-empty")).to_be_visible()

        room = await context.new_page()
        await join_room(room, bot.url + "/room/village", "张大爷")
        await expect(room.get_by_test_id("message").filter(has_text="【夜话开始】")
                     ).to_be_visible()
        await room.get_by_test_id("message-box").fill("建议 <i>路灯</i>坏了")
        await room.get_by_test_id("send-button").click()
        await expect(room.get_by_test_id("message").filter(has_text="第 1 号")).to_be_visible()

        item = page.get_by_test_id("live-item")  # the console page is not reloaded
        await expect(item).to_have_count(1, timeout=15_000)
        await expect(item).to_contain_text("张大爷")
        await expect(item.locator(".text")).to_have_text("<i>路灯</i>坏了")
        await expect(page.get_by_test_id("live-count")).to_have_text("1")
        await expect(page.get_by_test_id("live-empty")).to_be_hidden()
        assert await item.locator("i").count() == 0  # markup stays text
        await context.close()
