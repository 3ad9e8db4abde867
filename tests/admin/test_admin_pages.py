"""The console's pages over real HTTP: dashboard, lessons, calendar, groups and accounts."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.admin.core import CONSOLE
from bot.admin.dashboard import month_span
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import (
    ChatMessage,
    ConsoleUser,
    Group,
    Member,
    Role,
    SuggestionStatus,
)
from bot.settings import Settings
from scheduler.models import Delivery, DeliveryStatus, Schedule
from tests.support.console import (
    PASSWORD,
    Visitor,
    add_account,
    add_delivery,
    add_group,
    add_suggestions,
    console_app,
    visitor,
)
from tests.support.polling import eventually

S = SuggestionStatus


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-testid="figure-{name}">([^<]*)<', html)
    assert found, name
    return found[1]


# --- dashboard ---------------------------------------------------------------------------------

async def test_dashboard_states_this_months_figures_and_draws_twelve_months(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        group_id = add_group(bot, "枫树屋场群")
        assert (await guest.sign_in("wang")).status == 302
        status, html = await guest.get("/admin")
        assert status == 200
        assert "这个月还没有建议" in html and figure(html, "adoption-rate") == "—"

        kept = add_suggestions(bot, group_id, [S.DONE] * 5 + [S.IN_PROGRESS, S.ADOPTED]
                               + [S.DECLINED] * 2 + [S.NEW] * 3)
        add_suggestions(bot, group_id, [S.NEW], merged_into=kept[0])  # a duplicate: not counted
        start, _ = month_span(bot.app[CONSOLE].services.clock().astimezone(settings.zone).date())
        add_suggestions(bot, group_id, [S.ADOPTED, S.NEW],
                        days_ago=(bot.app[CONSOLE].services.clock().date() - start).days + 40)
        add_delivery(bot, group_id, DeliveryStatus.SENT)
        add_delivery(bot, group_id, DeliveryStatus.FAILED)

        status, html = await guest.get("/admin")
        assert (figure(html, "collected"), figure(html, "adopted"), figure(html, "done"),
                figure(html, "declined"), figure(html, "new")) == ("12", "7", "5", "2", "3")
        assert figure(html, "adoption-rate") == "58.3%"
        assert figure(html, "completion-rate") == "71.4%"
        assert figure(html, "lessons") == "1"
        assert "这个月还没有建议" not in html
        assert "有 4 条建议还没处理" in html  # three this month, one earlier
        assert "有 1 次微党课没发出去" in html
        bars = re.findall(r'data-testid="bar-(\w+)" data-value="(\d+)"', html)
        assert len(bars) == 36
        assert bars[-3:] == [("collected", "12"), ("adopted", "7"), ("done", "5")]
        assert sum(int(v) for k, v in bars[:-3] if k == "collected") == 2
        assert "<svg" in html and "script" not in html.split("<svg", 1)[1].split("</svg>")[0]


# --- lessons -----------------------------------------------------------------------------------

async def test_a_lesson_shows_its_text_beside_the_dialect_spoken_version(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR)
        assert (await guest.sign_in("libo")).status == 302
        status, html = await guest.get("/admin/lessons")
        assert status == 200 and 'href="/admin/lessons/telecom-fraud"' in html
        status, html = await guest.get("/admin/lessons/telecom-fraud?profile=%E6%B9%98")  # 湘
        assert status == 200
        assert html.count('data-testid="pair-row"') > 5
        assert 'class="pair changed"' in html  # some framing sentence said the Hunan way
        posted = re.findall(r'data-testid="posted-text"><span class="pair-label">文字：</span>'
                            r"([^<]*)<", html)
        said = re.findall(r'data-testid="spoken-text"><span class="pair-label">读作：</span>'
                          r"([^<]*)<", html)
        assert len(posted) == len(said) and posted != said
        status, plain = await guest.get("/admin/lessons/telecom-fraud")
        assert 'class="pair changed"' not in plain  # 普通话 reads the text as written
        assert (await guest.get("/admin/lessons/no-such-lesson"))[0] == 404
        assert (await guest.get("/admin/lessons/..%2Fsecret"))[0] == 404


async def test_a_lessons_voice_is_made_in_the_background_and_then_plays(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR)
        assert (await guest.sign_in("libo")).status == 302
        page = "/admin/lessons/telecom-fraud"
        html = (await guest.get(page))[1]
        assert 'data-profile="普通话" data-state="none"' in html
        made = await guest.post(page + "/voice", {"profile": "普通话"}, await guest.token(page))
        assert made.status == 302

        async def ready() -> str:
            async with guest.http.get(bot.url + page + "/voice") as response:
                state = (await response.json())["普通话"]
            assert state["state"] in ("working", "ready"), state
            return str(state["url"]) if state["state"] == "ready" else ""

        url = await eventually(ready, within=20.0)
        async with guest.http.get(bot.url + url) as audio:
            assert audio.status == 200 and audio.headers["Content-Type"] == "audio/mpeg"
            assert len(await audio.read()) > 6000
        html = (await guest.get(page))[1]
        assert f'src="{url}" data-testid="voice-audio"' in html


async def test_scheduling_a_lesson_weekly_puts_it_on_the_calendar_and_cancel_takes_it_off(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR)
        group_id = add_group(bot, "枫树屋场群")
        assert (await guest.sign_in("libo")).status == 302
        page = "/admin/lessons/telecom-fraud"
        token = await guest.token(page)
        done = await guest.post(page + "/schedule", [
            ("group", str(group_id)), ("mode", "weekly"), ("weekday", "5"),
            ("time", "20:00")], token)
        assert done.status == 302
        html = (await guest.get(done.headers["Location"]))[1]
        assert "已安排《" in html and "枫树屋场群" in html
        with session(bot.app[ENGINE]) as db:
            [schedule] = db.exec(select(Schedule)).all()
            assert schedule.cron == "0 20 * * 5"

        html = (await guest.get("/admin/calendar"))[1]
        rows = html.count('data-testid="upcoming-row"')
        assert rows == 2  # two Fridays in the next two weeks
        assert "每周五 20:00" in html and re.search(r"\d+月\d+日 20:00", html)

        past = await guest.post(page + "/schedule", [
            ("group", str(group_id)), ("mode", "once"), ("date", "2020-01-01"),
            ("time", "20:00")], token)
        assert "已经过去" in (await guest.get(past.headers["Location"].split("#")[0]))[1]
        none = await guest.post(page + "/schedule", [("mode", "daily"), ("time", "20:00")],
                                token)
        assert "请至少选一个群" in (await guest.get(none.headers["Location"].split("#")[0]))[1]

        assert schedule.id is not None
        cancelled = await guest.post(f"/admin/calendar/schedules/{schedule.id}/cancel",
                                     {"back": "/admin/calendar"}, token)
        assert cancelled.headers["Location"] == "/admin/calendar"
        html = (await guest.get("/admin/calendar"))[1]
        assert "已取消这个定时发送" in html and 'data-testid="upcoming-row"' not in html


async def test_the_retry_button_sends_a_failed_lesson_to_the_group(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR)
        group_id = add_group(bot, "枫树屋场群")
        other = add_group(bot, "杨柳村群", chat_id="yangliu", hamlet="杨柳屋场")
        failed = add_delivery(bot, group_id, DeliveryStatus.FAILED)
        missed = add_delivery(bot, other, DeliveryStatus.MISSED, days_ago=3)
        assert (await guest.sign_in("libo")).status == 302
        html = (await guest.get("/admin/calendar"))[1]
        assert html.count('data-testid="retry-button"') == 2
        assert "发送失败" in html and "错过了" in html
        only = (await guest.get(f"/admin/calendar?group={other}"))[1]
        assert f'data-delivery="{missed}"' in only and f'data-delivery="{failed}"' not in only

        token = await guest.token("/admin/calendar")
        retried = await guest.post(f"/admin/calendar/deliveries/{failed}/retry",
                                   {"back": "/admin/calendar"}, token)
        assert retried.status == 302

        def status() -> DeliveryStatus:
            with session(bot.app[ENGINE]) as db:
                row = db.get(Delivery, failed)
                assert row is not None
                return row.status

        async def sent() -> bool:
            return status() == DeliveryStatus.SENT

        await eventually(sent, within=20.0)
        with session(bot.app[ENGINE]) as db:
            posted = db.exec(select(ChatMessage).where(ChatMessage.group_id == group_id,
                                                       ChatMessage.lesson_slug == "telecom-fraud"))
            assert len(posted.all()) >= 2  # the text and its voice
        html = (await guest.get("/admin/calendar"))[1]
        row = html.split(f'data-delivery="{failed}"', 1)[1].split("</tr>", 1)[0]
        assert "已发送" in row and "retry-button" not in row
        again = await guest.post(f"/admin/calendar/deliveries/{failed}/retry",
                                 {"back": "/admin/calendar"}, token)
        refused = (await guest.get(again.headers["Location"]))[1]
        assert "只有发送失败或错过的记录可以重发" in refused


# --- groups and roles ---------------------------------------------------------------------------

async def test_an_admin_edits_a_group_and_grants_and_revokes_a_role(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "root", Role.ADMIN)
        group_id = add_group(bot, "枫树屋场群")
        with session(bot.app[ENGINE]) as db:
            db.add(Member(group_id=group_id, user_id="u-zhang", display_name="张大爷"))
        assert (await guest.sign_in("root")).status == 302
        page = f"/admin/groups/{group_id}"
        token = await guest.token(page)
        bad = await guest.post(page, {"name": "枫树", "hamlet": "", "timezone": "Mars/Base",
                                      "speech_profile": "湘"}, token)
        assert "时区不认识" in (await guest.get(bad.headers["Location"]))[1]
        good = await guest.post(page, {"name": "枫树屋场大群", "hamlet": "枫树屋场",
                                       "timezone": "Asia/Urumqi", "speech_profile": "湘"}, token)
        assert "已保存" in (await guest.get(good.headers["Location"]))[1]
        with session(bot.app[ENGINE]) as db:
            group = db.get(Group, group_id)
            assert group is not None
            assert (group.name, group.timezone, group.speech_profile) == (
                "枫树屋场大群", "Asia/Urumqi", "湘")

        html = (await guest.get(page + "?q=张"))[1]
        assert 'data-user="u-zhang"' in html
        await guest.post(page + "/roles", {"user_id": "u-zhang", "role": "facilitator"}, token)
        html = (await guest.get(page))[1]
        assert "已把 张大爷 在「枫树屋场大群」设为话事佬" in html
        assert 'data-testid="member-row" data-user="u-zhang"' in html

        await guest.post(page + "/roles", {"user_id": "u-new", "name": "王会计",
                                           "role": "secretary"}, token)
        await guest.post(page + "/roles", {"user_id": "u-zhang", "role": "member"}, token)
        with session(bot.app[ENGINE]) as db:
            roles = {m.user_id: m.role for m in db.exec(select(Member))}
        assert roles == {"u-zhang": Role.MEMBER, "u-new": Role.SECRETARY}
        ghost = await guest.post(page + "/roles", {"user_id": "u-ghost", "role": "member"}, token)
        assert "没有编号为 u-ghost 的成员" in (await guest.get(ghost.headers["Location"]))[1]
        assert (await guest.get("/admin/groups/999"))[0] == 404


# --- accounts ---------------------------------------------------------------------------------

async def test_an_admin_adds_an_account_that_can_sign_in_then_disables_it(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot, None) as admin:
        add_account(bot, "root", Role.ADMIN)
        assert (await admin.sign_in("root")).status == 302
        token = await admin.token("/admin/users")
        differ = await admin.post("/admin/users", {
            "username": "wang", "display_name": "王书记", "role": "secretary",
            "password": PASSWORD, "password2": PASSWORD + "x"}, token)
        assert "两次输入的密码不一样" in (await admin.get(differ.headers["Location"]))[1]
        added = await admin.post("/admin/users", {
            "username": "wang", "display_name": "王书记", "role": "secretary",
            "password": PASSWORD, "password2": PASSWORD}, token)
        assert "已添加账号 wang（书记或文书）" in (await admin.get(added.headers["Location"]))[1]

        async with visitor(bot, "wang") as wang:
            assert (await wang.get("/admin/users"))[0] == 403
            with session(bot.app[ENGINE]) as db:
                user = db.exec(select(ConsoleUser).where(ConsoleUser.username == "wang")).one()
                me = db.exec(select(ConsoleUser).where(ConsoleUser.username == "root")).one()
            await admin.post(f"/admin/users/{user.id}/disable", {}, token)
            assert (await wang.get("/admin"))[0] == 302  # signed out at once
            assert (await wang.sign_in("wang")).status == 401

        selfish = await admin.post(f"/admin/users/{me.id}/disable", {}, token)
        assert "不能改自己的角色或停用自己" in (await admin.get(selfish.headers["Location"]))[1]
        await admin.post(f"/admin/users/{user.id}/disable", {"enable": "1"}, token)
        await admin.post(f"/admin/users/{user.id}/role", {"role": "facilitator"}, token)
        await admin.post(f"/admin/users/{user.id}/password",
                         {"password": "新的密码12345", "password2": "新的密码12345"}, token)
        async with visitor(bot) as wang:
            assert (await wang.sign_in("wang", "新的密码12345")).status == 302
            html = (await wang.get("/admin"))[1]
            assert "（话事佬）" in html
            assert isinstance(wang, Visitor)
