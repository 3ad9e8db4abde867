"""A report or the points workbook asked for while the disk is full: a clear refusal, and the
next try works."""

from __future__ import annotations

import pytest

from bot import texts
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import prepare_console, signed_in
from tests.support.faults import disk_fills_at

YEAR = "from=2026-01-01&to=2026-12-31&format=xlsx"


@pytest.mark.parametrize("download", [f"/admin/reports/download?{YEAR}",
                                      "/admin/points/rankings/download?year=2026"],
                         ids=["suggestions-report", "points-workbook"])
async def test_a_report_on_a_full_disk_is_refused_in_plain_words_then_downloads(
        settings: Settings, download: str) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        url = f"{bot.url}{download}"
        with disk_fills_at(1024):
            async with secretary.http.get(url) as response:
                status, text = response.status, await response.text()
        assert (status, text) == (507, texts.ADMIN_REPORT_NO_ROOM)
        async with secretary.http.get(url) as response:
            assert response.status == 200
            assert (await response.read()).startswith(b"PK")  # a whole workbook
