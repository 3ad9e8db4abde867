"""Reports from the console: the figures on screen, and each file format downloaded and opened."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from urllib.parse import unquote

import docx
import openpyxl
import pytest
from aiohttp import web
from sqlalchemy import insert

from bot.admin import CONSOLE, setup_admin
from bot.app import ENGINE, SERVICES, SETTINGS
from bot.core.db import open_database, session
from bot.core.models import Group, Suggestion
from bot.domain.accounts import create_user
from bot.domain.suggestions import prepare_suggestion
from bot.reports.docx_export import DOCX_MAX_ROWS
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import (
    FACILITATOR_LOGIN,
    PASSWORD,
    SECRETARY_LOGIN,
    Signed,
    signed_in,
)
from tests.support.reports import seed

YEAR = "from=2026-01-01&to=2026-12-31"


def console_only(app: web.Application) -> None:
    """The console and its accounts, over the known data set of tests/support/reports.py."""
    if CONSOLE not in app:
        setup_admin(app, app[SERVICES], settings=app[SETTINGS])
    with session(app[ENGINE]) as db:
        for username, name, role in (SECRETARY_LOGIN, FACILITATOR_LOGIN):
            create_user(db, username, name, PASSWORD, role)


async def download(secretary: Signed, query: str) -> tuple[bytes, str, str]:
    """The file body, its content type and the file name a browser would save it as."""
    async with secretary.http.get(f"{secretary.url}/admin/reports/download?{query}") as response:
        assert response.status == 200, await response.text()
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
        return await response.read(), response.content_type, name


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    seed(settings.db_url).engine.dispose()  # 12 suggestions in 2026: 7 adopted, 5 done
    return settings


async def test_the_page_states_the_figures_for_the_chosen_filter(seeded: Settings) -> None:
    async with running(seeded, console_only) as bot, signed_in(bot.url) as secretary:
        status, html = await secretary.get(f"/admin/reports?{YEAR}")
        assert status == 200
        assert "统计时间：2026年1月1日至2026年12月31日" in html
        figures = {n: html.split(f'data-testid="figure-{n}">', 1)[1].split("<", 1)[0]
                   for n in range(8)}
        assert figures == {0: "12", 1: "7", 2: "1", 3: "5", 4: "2", 5: "3", 6: "58.3%",
                           7: "71.4%"}
        assert "修路的事（3月5日 晒谷坪）" in html and "杨柳屋场" in html  # the breakdowns
        _, html = await secretary.get(f"/admin/reports?{YEAR}&hamlet=%E6%9D%A8%E6%9F%B3"
                                      "%E5%B1%8B%E5%9C%BA&topic=roads")
        assert 'data-testid="figure-0">2<' in html  # 杨柳屋场's road suggestions: 6 and 8
        _, html = await secretary.get("/admin/reports?from=2026-05-01&to=2026-03-01")
        assert "晚于" in html and 'data-testid="report-figures"' not in html


async def test_each_format_downloads_and_opens_with_the_known_figures(seeded: Settings) -> None:
    async with running(seeded, console_only) as bot, signed_in(bot.url) as secretary:
        body, kind, name = await download(secretary, f"{YEAR}&format=xlsx")
        assert name == "建议办理情况_2026-01-01_2026-12-31.xlsx"
        assert kind == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        book = openpyxl.load_workbook(io.BytesIO(body))
        total = next(r for r in book["汇总"].iter_rows(values_only=True) if r[0] == "合计")
        assert list(total[1:7]) == [12, 7, 1, 5, 2, 3]
        assert total[7] == pytest.approx(7 / 12, abs=5e-4)
        detail = list(book["明细"].iter_rows(values_only=True))
        assert [row[0] for row in detail[1:]] == list(range(1, 13))
        voice = detail[0].index("语音")
        assert detail[5][voice] == f"{seeded.base_url}/media/voice-5.ogg"  # a link that opens

        body, kind, name = await download(secretary, f"{YEAR}&format=docx")
        assert name.endswith(".docx") and kind.endswith("wordprocessingml.document")
        document = docx.Document(io.BytesIO(body))
        summary = next(p.text for p in document.paragraphs if p.text.startswith("本期"))
        assert summary.startswith("本期共收集群众建议12条，采纳7条，采纳率58.3%；已办结5条")
        assert len(document.tables[-1].rows) == 13

        body, kind, name = await download(secretary, f"{YEAR}&format=csv&group=2")
        assert name.endswith(".csv") and kind == "text/csv"
        assert body.startswith(b"\xef\xbb\xbf")  # so Excel reads the Chinese right
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows[0][:3] == ["编号", "日期", "夜话"]
        assert [int(r[0]) for r in rows[1:]] == [6, 7, 8, 9, 11]  # 杨柳屋场群 only


async def test_a_report_needs_a_secretary_and_a_sensible_request(seeded: Settings) -> None:
    async with running(seeded, console_only) as bot:
        async with signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
            status, _ = await facilitator.get(f"/admin/reports/download?{YEAR}&format=xlsx")
            assert status == 403
        async with signed_in(bot.url) as secretary:
            for query in ("from=2026-05-01&to=2026-03-01&format=csv",
                          f"{YEAR}&format=pdf", "from=someday&format=csv"):
                async with secretary.http.get(
                        f"{bot.url}/admin/reports/download?{query}") as response:
                    assert response.status == 400, query
                    assert "attachment" not in response.headers.get("Content-Disposition", "")


async def test_a_word_report_too_long_to_print_is_refused_in_plain_chinese(
    settings: Settings
) -> None:
    engine = open_database(settings.db_url)
    with session(engine) as db:
        group = Group(platform="web", chat_id="fengshu", name="枫树屋场群", hamlet="枫树屋场")
        db.add(group)
        db.flush()
        rows = [prepare_suggestion(group=group, platform="web", chat_id="fengshu",
                                   message_id=str(n), author_id=f"u{n % 50}",
                                   author_name="村民", text=f"第{n}条：村口路灯不亮",
                                   now=datetime(2026, 6, 1, 12, tzinfo=UTC))
                for n in range(DOCX_MAX_ROWS + 1)]
        db.connection().execute(insert(Suggestion.__table__), rows)  # type: ignore[attr-defined]
    engine.dispose()
    async with running(settings, console_only) as bot, signed_in(bot.url) as secretary:
        async with secretary.http.get(
                f"{bot.url}/admin/reports/download?{YEAR}&format=docx") as response:
            assert response.status == 400
            assert f"这段时间有 {DOCX_MAX_ROWS + 1:,} 条建议" in await response.text()
        body, _type, _name = await download(secretary, f"{YEAR}&format=csv")
        assert body.decode("utf-8-sig").count("村口路灯不亮") == DOCX_MAX_ROWS + 1
