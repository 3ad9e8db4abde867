"""Night talks from the console: schedule, open, watch suggestions arrive, close, cancel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.admin.talks import FormProblem, talk_times
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import NightTalk, NightTalkStatus
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import (
    FACILITATOR_LOGIN,
    Signed,
    bot_messages,
    prepare_console,
    signed_in,
)
from tests.support.village import (
    LI,
    ZHANG,
    bot_texts,
    joined,
    say_by_voice,
)

VILLAGE = ZoneInfo("Asia/Shanghai")


def tomorrow() -> date:
    """Tomorrow in the village, so the talk lies ahead of the running bot's own clock."""
    return (datetime.now(VILLAGE) + timedelta(days=1)).date()


def talks(app: Any) -> list[NightTalk]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(NightTalk)))


async def schedule(facilitator: Signed, **fields: str) -> tuple[int, str]:
    form = {"group": "1", "date": tomorrow().isoformat(), "start": "19:30", "end": "",
            "topic": "村里修路", "place": "枫树屋场晒谷坪", "host": "李伯"} | fields
    return await facilitator.post("/admin/talks", form, form_on="/admin/talks")


async def live(facilitator: Signed, talk_id: int, after: int = 0) -> dict[str, Any]:
    async with facilitator.http.get(
            f"{facilitator.url}/admin/talks/{talk_id}/live?after={after}") as response:
        assert response.status == 200
        data: dict[str, Any] = await response.json()
        return data


def test_form_times_are_read_in_the_groups_time_zone() -> None:
    starts, ends = talk_times("2026-12-05", "19:30", "21:00", "Asia/Shanghai")
    assert starts == datetime(2026, 12, 5, 11, 30, tzinfo=UTC)
    assert ends == datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    _, late = talk_times("2026-12-05", "22:00", "00:30", "Asia/Shanghai")
    assert late == datetime(2026, 12, 5, 16, 30, tzinfo=UTC)  # half past midnight, next day
    assert talk_times("2026-12-05", "19:30", "", "Asia/Shanghai")[1] is None
    for day, clock in (("12月5日", "19:30"), ("2026-12-05", "晚上")):
        try:
            talk_times(day, clock, "", "Asia/Shanghai")
        except FormProblem as exc:
            assert "看不懂" in str(exc)
        else:
            raise AssertionError(f"{day} {clock} was accepted")


async def test_facilitator_schedules_a_night_talk_and_the_group_sees_it_announced(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, \
            signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
        status, html = await schedule(facilitator)
        assert status == 200 and "夜话已安排" in html and "村里修路" in html
        (talk,) = talks(bot.app)
        local = talk.starts_at.astimezone(VILLAGE)
        assert (local.date(), local.time()) == (tomorrow(), time(19, 30))
        assert talk.ends_at - talk.starts_at == timedelta(hours=2)
        assert (talk.place, talk.host, talk.status) == ("枫树屋场晒谷坪", "李伯",
                                                         NightTalkStatus.SCHEDULED)
        (announcement,) = bot_texts(bot.app)
        assert announcement.startswith("【夜话预告】") and "村里修路" in announcement
        assert "晚上7点半" in announcement and "枫树屋场晒谷坪" in announcement
        _, listing = await facilitator.get("/admin/talks")
        assert "村里修路" in listing and "待开始" in listing


async def test_a_bad_schedule_is_explained_with_the_form_kept_and_nothing_scheduled(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, \
            signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
        status, html = await schedule(facilitator, date="2020-01-01", topic="<b>修路</b>")
        assert status == 400 and "已经过去了" in html
        assert 'value="&lt;b&gt;修路&lt;/b&gt;"' in html  # what was typed stays, as text
        status, html = await schedule(facilitator, start="七点半")
        assert status == 400 and "时间「七点半」看不懂" in html
        status, html = await schedule(facilitator, topic="  ")
        assert status == 400 and "请写上夜话要聊的话题" in html
        assert talks(bot.app) == [] and bot_messages(bot.app[ENGINE]) == 0


async def test_an_open_talk_shows_suggestions_arriving_and_closing_posts_the_summary(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, \
            joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li, \
            signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
        await schedule(facilitator)
        (talk,) = talks(bot.app)
        assert talk.id is not None
        _, page = await facilitator.get(f"/admin/talks/{talk.id}")
        assert "现在开始" in page and "data-live-url" not in page  # not live before it opens

        status, page = await facilitator.post(f"/admin/talks/{talk.id}/open", {},
                                              form_on=f"/admin/talks/{talk.id}")
        assert status == 200 and "开始了，群里已经通知" in page
        assert "【夜话开始】" in await zhang.sees("【夜话开始】")
        assert f'data-live-url="/admin/talks/{talk.id}/live"' in page
        assert "/static/admin-live.js" in page
        assert (await live(facilitator, talk.id))["suggestions"] == []

        await zhang.ask("建议 村口路灯坏了，<b>晚上</b>看不见路")
        feed = await live(facilitator, talk.id)
        assert feed["status"] == "open" and feed["count"] == 1
        [first] = feed["suggestions"]
        assert (first["number"], first["author"]) == (1, "张大爷")
        assert first["text"] == "村口路灯坏了，<b>晚上</b>看不见路"  # raw: set as text in the page
        assert first["url"] == "/admin/suggestions/1"
        await say_by_voice(bot.url, LI)
        await li.sees("第 2 号")
        [voice] = (await live(facilitator, talk.id, after=1))["suggestions"]
        assert voice["author"] == "李婶" and voice["voice_url"].startswith("/media/")
        async with facilitator.http.get(bot.url + voice["voice_url"]) as response:
            assert response.status == 200 and response.content_type == "audio/mpeg"
        _, page = await facilitator.get(f"/admin/talks/{talk.id}")
        assert "&lt;b&gt;晚上&lt;/b&gt;" in page and "<b>晚上</b>" not in page

        status, page = await facilitator.post(f"/admin/talks/{talk.id}/close", {},
                                              form_on=f"/admin/talks/{talk.id}")
        assert "汇总已发到群里" in page and "已结束" in page
        summary = await li.sees("【夜话结束】")
        assert "共收到 2 条建议" in summary and "村口路灯坏了" in summary
        assert (await live(facilitator, talk.id, after=2)) == {
            "status": "closed", "status_label": "已结束", "count": 2, "suggestions": []}


async def test_cancelling_tells_the_group_the_talk_is_off(settings: Settings) -> None:
    async with running(settings, prepare_console) as bot, \
            signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
        await schedule(facilitator)
        (talk,) = talks(bot.app)
        _, page = await facilitator.post(f"/admin/talks/{talk.id}/cancel", {},
                                         form_on=f"/admin/talks/{talk.id}")
        assert "已取消" in page
        assert talks(bot.app)[0].status is NightTalkStatus.CANCELLED
        notices = bot_texts(bot.app)
        assert len(notices) == 2 and "取消" in notices[1] and "村里修路" in notices[1]
        _, page = await facilitator.post(f"/admin/talks/{talk.id}/open", {},
                                         form_on="/admin/talks")
        assert "已经取消了" in page  # refused in plain words, and nothing is posted
        assert len(bot_texts(bot.app)) == 2


async def test_night_talk_pages_need_a_sign_in_and_a_missing_talk_is_not_found(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot:
        async with signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
            status, _ = await facilitator.get("/admin/talks/7")
            assert status == 404
            async with facilitator.http.get(f"{bot.url}/admin/talks/7/live") as response:
                assert response.status == 404
        async with signed_in(bot.url) as secretary:  # a secretary may see them too
            status, _ = await secretary.get("/admin/talks")
            assert status == 200
