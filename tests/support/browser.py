"""Debian's chromium driven by Playwright, for the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
# Root cannot use chromium's sandbox, the machine has no GPU, and a test must never reach out to
# the internet; Playwright's own downloaded browser is not used (it cannot be fetched here).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@asynccontextmanager
async def launch_chromium(args: list[str] | None = None) -> AsyncIterator[Browser]:
    """Debian's chromium through Playwright; skipped where it is missing, except in CI."""
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run must install it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=args or CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def join_room(page: Page, room_url: str, name: str) -> Page:
    """`name` opens the room at `room_url`, joins, and waits until the room is connected.

    The room shows its history before its live connection is up, and a message sent before then
    is only a "not connected" toast: a test that sent at once would race the connection.
    """
    await page.goto(room_url)
    await page.get_by_test_id("name-input").fill(name)
    await page.get_by_test_id("join-button").click()
    await expect(page.get_by_test_id("connection-status")).to_be_hidden()
    return page
