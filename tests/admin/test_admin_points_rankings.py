"""The console's points rankings: a period's lists by person and household on screen, the
workbook downloaded and opened, bad input refused, and only for secretaries."""

from __future__ import annotations

import io
from urllib.parse import unquote

import openpyxl
from aiohttp import web

from bot.app import ENGINE
from bot.core.db import session
from bot.domain.accounts import create_user
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import (
    FACILITATOR_LOGIN,
    PASSWORD,
    SECRETARY_LOGIN,
    signed_in,
    with_console,
)
from tests.support.points import seed_village

PAGE = "/admin/points/rankings"


def prepare(app: web.Application) -> None:
    with_console(app)
    seed_village(app[ENGINE])
    with session(app[ENGINE]) as db:
        for username, name, role in (SECRETARY_LOGIN, FACILITATOR_LOGIN):
            create_user(db, username, name, PASSWORD, role)


async def test_a_month_shows_each_villages_lists_and_downloads_as_a_workbook(
        settings: Settings) -> None:
    async with running(settings, prepare) as bot, signed_in(bot.url) as secretary:
        status, html = await secretary.get(f"{PAGE}?year=2026&month=11")
        assert status == 200
        assert "<h1>积分排名</h1>" in html  # its own title, not the 积分清单 page's
        assert "2026年11月" in html and "枫树村" in html and "隔壁村" in html
        assert html.count('data-testid="points-household"') == 4
        assert "<td>1</td><td>张大爷</td><td>11</td>" in html
        assert "<td>1</td><td>李家</td><td>13</td>" in html
        async with secretary.http.get(
                f"{bot.url}{PAGE}/download?year=2026&month=11&group=1") as response:
            assert response.status == 200
            name = unquote(response.headers["Content-Disposition"].split("UTF-8''", 1)[1])
            body = await response.read()
        assert name == "积分_2026年11月.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(body))
        people = list(book["个人排名"].iter_rows(values_only=True))
        assert [row[2] for row in people[1:]] == ["张大爷", "李婶", "王伯", "赵叔", "刘姐"]
        assert len(list(book["积分明细"].iter_rows())) == 1 + 9


async def test_a_bad_month_is_refused_and_a_facilitator_is_not_let_in(
        settings: Settings) -> None:
    async with running(settings, prepare) as bot:
        async with signed_in(bot.url) as secretary:
            status, html = await secretary.get(f"{PAGE}?year=2026&month=13")
            assert status == 400 and "年份或月份不对：13" in html
            status, text = await secretary.get(f"{PAGE}/download?year=1&month=2")
            assert status == 400 and "年份或月份不对：1" in text
        async with signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
            status, html = await facilitator.get(PAGE)
            assert status == 403 and "张大爷" not in html
