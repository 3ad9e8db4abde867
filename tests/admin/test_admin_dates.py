"""Dates no report can cover, asked of the console: refused with a reason, never a crash."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.admin import CONSOLE, setup_admin
from bot.app import ENGINE, SERVICES, SETTINGS
from bot.core.db import session
from bot.domain.accounts import create_user
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import (
    FACILITATOR_LOGIN,
    PASSWORD,
    SECRETARY_LOGIN,
    signed_in,
)
from tests.support.reports import seed

FAR = [("from=0001-01-01&to=2026-12-31", "日期 0001-01-01 超出范围了"),
       ("from=2026-01-01&to=9999-12-31", "日期 9999-12-31 超出范围了"),
       ("to=1999-12-31", "日期 1999-12-31 超出范围了")]
PAGES = ["/admin/reports", "/admin/reports/download", "/admin/suggestions"]


def console_only(app: web.Application) -> None:
    if CONSOLE not in app:
        setup_admin(app, app[SERVICES], settings=app[SETTINGS])
    with session(app[ENGINE]) as db:
        for username, name, role in (SECRETARY_LOGIN, FACILITATOR_LOGIN):
            create_user(db, username, name, PASSWORD, role)


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    seed(settings.db_url).engine.dispose()  # 12 suggestions in 2026
    return settings


async def test_dates_outside_2000_to_2100_are_refused_with_a_chinese_reason_on_every_page(
        seeded: Settings) -> None:
    async with running(seeded, console_only) as bot, signed_in(bot.url) as secretary:
        answers = {(page, query): await secretary.get(f"{page}?{query}")
                   for page in PAGES for query, _ in FAR}
        # The pages still work for the dates they can cover.
        status, html = await secretary.get("/admin/reports?from=2000-01-01&to=2100-12-31")
    for (page, query), (code, body) in answers.items():
        reason = dict(FAR)[query]
        assert code == 400, (page, query, body[:300])
        assert reason in body and "2000-01-01 到 2100-12-31" in body, (page, query)
    assert status == 200 and 'data-testid="report-figures"' in html
