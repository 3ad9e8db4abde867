"""The console's share of the seeds' figures and the public ledger: the dashboard's month of
talks, attendance and days to done, and a group's ledger link with a way to change it."""

from __future__ import annotations

import re

import aiohttp

from bot.admin.core import CONSOLE
from bot.app import ENGINE
from bot.core.models import Role
from bot.settings import Settings
from tests.support.console import add_account, console_app, visitor
from tests.support.outcomes import local, seed_village


def by_testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}">([^<]*)<', html)
    assert found, name
    return found[1]


async def test_the_dashboard_states_the_months_talks_people_and_days_to_done(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        seed_village(bot.app[ENGINE])
        bot.app[CONSOLE].services.clock = lambda: local(3, 31, 12)  # the end of March
        add_account(bot, "wang", Role.SECRETARY)
        async with visitor(bot, "wang") as guest:
            status, html = await guest.get("/admin")
            _, report = await guest.get("/admin/reports?from=2026-03-01&to=2026-03-31")
            _, one = await guest.get("/admin/reports?from=2026-03-01&to=2026-03-31"
                                     "&hamlet=%E6%9D%A8%E6%9F%B3%E5%B1%8B%E5%9C%BA")  # 杨柳屋场
    # Any period on the reports page: the same figures, narrowed by the filter.
    assert [by_testid(report, f"outcome-{n}") for n in range(12)] == [
        "3", "21", "22", "10", "7", "5", "1", "70.0%", "71.4%", "3.0", "10.0", "1"]
    assert [by_testid(one, f"outcome-{n}") for n in (0, 1, 3, 9)] == ["1", "14", "3", "10.0"]
    assert status == 200
    assert [by_testid(html, f"outcome-{name}") for name in
            ("talks", "people", "person-times", "median", "p90", "overdue")] == [
        "3", "21", "22", "3.0", "10.0", "1"]
    assert "有 1 条建议已过期限还没办完" in html
    hamlets = html.split('data-testid="outcome-hamlet"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>\s*<td[^>]*><strong>([^<]*)</strong></td>(.*?)</tr>", hamlets, re.S)
    cells = {label: re.findall(r"<td[^>]*>([^<]*)</td>", rest) for label, rest in rows}
    assert cells["杨柳屋场"] == ["1", "14", "14", "3", "1", "1", "1", "33.3%", "100.0%",
                                 "10.0", "10.0", "0"]
    assert list(cells) == ["枫树屋场", "杨柳屋场", "石门屋场"]
    assert 'data-testid="outcome-group"' in html and 'data-testid="outcome-topic"' in html


async def test_a_groups_page_shows_the_ledger_link_and_changing_it_revokes_the_old(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        village = seed_village(bot.app[ENGINE])
        add_account(bot, "admin", Role.ADMIN)
        page = f"/admin/groups/{village.fengshu}"
        async with visitor(bot, "admin") as guest, aiohttp.ClientSession() as public:
            status, html = await guest.get(page)
            assert status == 200 and 'data-testid="ledger-none"' in html
            made = await guest.post(page + "/ledger", {}, await guest.token(page))
            assert made.status == 302
            _, html = await guest.get(page)
            first = by_testid(html, "ledger-link")
            assert first.startswith(f"{settings.base_url}/ledger/") and "台账链接已生成" in html
            old_path = first.removeprefix(settings.base_url)
            async with public.get(bot.url + old_path) as response:
                assert response.status == 200
                assert "枫树村群 · 建议公开台账" in await response.text()

            changed = await guest.post(page + "/ledger", {}, await guest.token(page))
            assert changed.status == 302
            _, html = await guest.get(page)
            second = by_testid(html, "ledger-link")
            assert second != first and "旧链接不能再打开了" in html
            async with public.get(bot.url + old_path) as response:
                assert response.status == 404
            async with public.get(bot.url + second.removeprefix(settings.base_url)) as response:
                assert response.status == 200
            refused = await guest.post(page + "/ledger", {})  # no CSRF token: nothing changes
            assert refused.status == 403
            _, html = await guest.get(page)
            assert by_testid(html, "ledger-link") == second
