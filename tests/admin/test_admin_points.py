"""The console's 积分清单 page: the list edited, points given to several at once, revoked."""

from __future__ import annotations

from bot.app import ENGINE
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import FACILITATOR_LOGIN, Signed, prepare_console, signed_in
from tests.support.points_list import RED_TEN, TOILET, add_items, entries
from tests.support.village import LI, ROOM, ZHANG, joined, village_id

ITEM = {"name": "改厕", "points": "20", "award_role": "facilitator", "daily_cap": "",
        "yearly_cap": "1"}


async def submit(who: Signed, path: str, fields: list[tuple[str, str]], page: str
                 ) -> tuple[int, str]:
    """Send a form with repeated fields (ticked boxes), as the page's form sends it."""
    fields = [*fields, ("csrf_token", await who.token(page))]
    async with who.http.post(who.url + path, data=fields) as response:
        return response.status, await response.text()


async def test_the_secretary_keeps_the_list_and_gives_points_to_two_people_at_once(
        settings: Settings) -> None:
    async with running(settings, prepare_console) as bot, \
            joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li, \
            signed_in(bot.url) as secretary:
        await zhang.say("在")
        await li.say("在")
        group = village_id(bot.app)
        page = f"/admin/points?group={group}"
        _, html = await secretary.post("/admin/points/items", {**ITEM, "group": str(group)},
                                       form_on=page)
        assert "已添加「改厕」" in html and 'data-name="改厕"' in html
        assert 'data-name="听微党课"' in html and "机器人自动给" in html
        _, html = await secretary.post("/admin/points/items", {**ITEM, "group": str(group)},
                                       form_on=page)
        assert "已经有「改厕」" in html
        _, html = await secretary.post("/admin/points/items", {
            **ITEM, "name": "红十条", "points": "十", "group": str(group)}, form_on=page)
        assert "分值要是不为 0 的整数" in html and 'data-name="红十条"' not in html
        _, html = await secretary.post("/admin/points/items", {
            **ITEM, "name": "红十条", "points": "-10", "award_role": "secretary",
            "yearly_cap": "", "group": str(group)}, form_on=page)
        assert "扣 10 分" in html
        ids = {e: i for i, e in enumerate(["听微党课", "提建议", "建议被采纳", "改厕"], 1)}
        status, html = await submit(secretary, "/admin/points/award", [
            ("group", str(group)), ("item", str(ids["改厕"])), ("who", ZHANG[0]),
            ("who", LI[0]), ("note", "全村改厕验收")], page)
        assert status == 200 and "已给 2 人记「改厕」" in html
        assert "全村改厕验收" in await zhang.sees("您因「改厕」得了 20 分")
        await li.sees("您因「改厕」得了 20 分")
        status, html = await submit(secretary, "/admin/points/award", [
            ("group", str(group)), ("item", str(ids["改厕"])), ("who", ZHANG[0])], page)
        assert "今年的「改厕」已经记满 1 次" in html
        first = entries(bot.app)[0]
        _, html = await secretary.post(f"/admin/points/entries/{first.id}/revoke",
                                       {"group": str(group), "reason": ""}, form_on=page)
        assert "撤销要写上理由" in html
        _, html = await secretary.post(f"/admin/points/entries/{first.id}/revoke",
                                       {"group": str(group), "reason": "验收没过"},
                                       form_on=page)
        assert "已撤销" in html and "已撤销：验收没过" in html
        assert "原因：验收没过" in await zhang.sees("已撤销")
        # A new value for the item: what was given before stays as it was.
        _, html = await secretary.post(f"/admin/points/items/{ids['改厕']}", {
            **ITEM, "points": "30", "group": str(group)}, form_on=page)
        assert "以前给过的分不变" in html and "改厕（加 30 分）</option>" in html
        _, html = await secretary.post(f"/admin/points/items/{ids['改厕']}/active",
                                       {"group": str(group), "active": "0"}, form_on=page)
        assert 'data-testid="points-item-off"' in html
        assert "改厕（加 30 分）</option>" not in html  # off: no longer offered to give
    rows = entries(bot.app)
    assert [(e.user_id, e.points, e.note, e.by_name) for e in rows] == [
        (ZHANG[0], 20, "全村改厕验收", "王书记"), (LI[0], 20, "全村改厕验收", "王书记")]
    assert rows[0].revoked_at is not None and rows[1].revoked_at is None


async def test_a_facilitator_gives_but_does_not_edit_and_forms_need_their_token(
        settings: Settings) -> None:
    async with running(settings, prepare_console) as bot, joined(bot.url, ZHANG) as zhang, \
            signed_in(bot.url, FACILITATOR_LOGIN) as libo:
        await zhang.say("在")
        group = village_id(bot.app)
        [toilet, red_ten] = add_items(bot.app[ENGINE], ROOM, TOILET, RED_TEN)
        page = f"/admin/points?group={group}"
        status, html = await libo.get(page)
        assert status == 200 and 'data-testid="points-add-form"' not in html
        assert f'<option value="{toilet}">改厕（加 20 分）' in html  # theirs to give
        assert "红十条（扣 10 分）</option>" not in html  # a secretary's
        status, html = await submit(libo, "/admin/points/award", [
            ("group", str(group)), ("item", str(red_ten)), ("who", ZHANG[0])], page)
        assert "只有书记或文书才能给" in html
        status, html = await submit(libo, "/admin/points/award", [
            ("group", str(group)), ("item", str(toilet)), ("who", ZHANG[0])], page)
        assert "已给 1 人记「改厕」" in html
        status, _ = await libo.post("/admin/points/items", {**ITEM, "group": str(group)},
                                    form_on=page)
        assert status == 403
        async with libo.http.post(f"{bot.url}/admin/points/award", data={
                "group": str(group), "item": "1", "who": ZHANG[0]}) as response:
            assert response.status == 403  # no CSRF token
    assert [(e.user_id, e.points, e.by_name) for e in entries(bot.app)] == [
        (ZHANG[0], 20, "李伯")]
