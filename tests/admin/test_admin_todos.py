"""The console's handlers: assigning from a suggestion's page, and the to-do page by handler."""

from __future__ import annotations

from datetime import timedelta

from bot.app import SERVICES
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import prepare_console, signed_in
from tests.support.village import FACILITATOR, ZHANG, joined, suggestions


async def test_the_secretary_assigns_in_the_console_and_the_to_do_page_marks_the_overdue(
        settings: Settings) -> None:
    async with running(settings, prepare_console) as bot, \
            joined(bot.url, ZHANG) as zhang, joined(bot.url, FACILITATOR) as libo, \
            signed_in(bot.url) as secretary:
        await zhang.ask("建议 村口路灯坏了")
        await zhang.ask("建议 路上有个大坑")
        for number in (1, 2):
            await secretary.post(f"/admin/suggestions/{number}/status",
                                 {"status": "adopted", "reply": "好"},
                                 form_on=f"/admin/suggestions/{number}")
        _, html = await secretary.post("/admin/suggestions/1/assign",
                                       {"handler": "李伯", "due": "3天内"},
                                       form_on="/admin/suggestions/1")
        assert "第 1 号建议已交给 李伯 办" in html
        assert "王书记：交给 李伯 办，期限" in html  # the history keeps who gave it to whom
        assert "第 1 号建议（张大爷：村口路灯坏了）" in await libo.sees("交给您一件事")
        _, html = await secretary.post("/admin/suggestions/2/assign",
                                       {"handler": "王师傅", "role": "修路队",
                                        "phone": "13800001111", "due": ""},
                                       form_on="/admin/suggestions/2")
        assert "第 2 号建议已交给 王师傅 办" in html and "请打电话 13800001111" in html
        _, refused = await secretary.post("/admin/suggestions/2/assign",
                                          {"handler": "李伯", "due": "昨天"},
                                          form_on="/admin/suggestions/2")
        assert "已经过了" in refused
        status, page = await secretary.get("/admin/todos")
        assert status == 200
        assert 'data-handler="李伯"' in page and 'data-handler="王师傅"' in page
        assert "tel:13800001111" in page and "超期" not in page.split("<h1>", 1)[1]
        # Four days on, Li's item is overdue; the road crew's (a week) is not yet.
        later = bot.app[SERVICES].clock() + timedelta(days=4, hours=1)
        bot.app[SERVICES].clock = lambda: later
        async with signed_in(bot.url) as next_week:  # yesterday's sign-in has run out
            _, page = await next_week.get("/admin/todos")
            assert page.count('data-testid="overdue-mark"') == 1
            li_section = page.split('data-handler="李伯"', 1)[1].split("</section>", 1)[0]
            assert 'data-testid="overdue-mark"' in li_section
            _, board = await next_week.get("/admin/suggestions")
            assert board.count('data-testid="overdue-mark"') == 1
            _, other = await next_week.get("/admin/todos?group=2")
            assert "todo-empty" in other
    first, second = suggestions(bot.app)
    assert (first.handler_user_id, second.handler_phone, second.handler_role) == (
        FACILITATOR[0], "13800001111", "修路队")
