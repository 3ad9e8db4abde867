"""The console shows night talks awaiting 确认 with a button to confirm, and repeating talks
with a button to stop them."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import NightTalk, NightTalkStatus
from bot.settings import Settings
from tests.support.app import running
from tests.support.console_village import FACILITATOR_LOGIN, prepare_console, signed_in
from tests.support.village import FACILITATOR, ZHANG, bot_texts, joined


def talks(app: Any) -> list[NightTalk]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(NightTalk).order_by(col(NightTalk.id))))


async def test_a_draft_from_the_chat_is_confirmed_in_the_console_and_announced(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, \
            joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang, \
            signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
        await host.ask("/安排夜话 下周三晚上8点 村里修路")
        [draft] = talks(bot.app)
        _, listing = await facilitator.get("/admin/talks")
        assert "等确认的夜话" in listing and "确认并在群里预告" in listing
        assert f'action="/admin/talks/{draft.id}/confirm"' in listing
        assert not any("【夜话预告】" in text for text in bot_texts(bot.app))

        status, page = await facilitator.post(f"/admin/talks/{draft.id}/confirm", {},
                                              form_on="/admin/talks")
        assert status == 200 and "已确认" in page and "待开始" in page
        notice = await zhang.sees("【夜话预告】")
        assert "星期三" in notice and "晚上8点" in notice and "村里修路" in notice
        assert talks(bot.app)[0].status is NightTalkStatus.SCHEDULED
        _, listing = await facilitator.get("/admin/talks")
        assert "等确认的夜话" not in listing


async def test_a_repeating_talk_is_listed_and_stopped_from_the_console(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, \
            joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang, \
            signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
        await host.ask("/安排夜话 每月15号晚上8点 村务公开")
        [draft] = talks(bot.app)
        _, page = await facilitator.get(f"/admin/talks/{draft.id}")
        assert "每月15号 晚上8点" in page and "确认并在群里预告" in page
        await facilitator.post(f"/admin/talks/{draft.id}/confirm", {},
                               form_on=f"/admin/talks/{draft.id}")
        await zhang.sees("【夜话预告】")
        _, listing = await facilitator.get("/admin/talks")
        assert "重复的夜话" in listing and "每月15号 晚上8点" in listing
        assert draft.series_id is not None

        status, listing = await facilitator.post(
            f"/admin/talks/series/{draft.series_id}/end", {}, form_on="/admin/talks")
        assert status == 200 and "以后不开了" in listing
        off = await zhang.sees("【夜话取消】")
        assert "村务公开" in off
        assert [t.status for t in talks(bot.app)] == [NightTalkStatus.CANCELLED]
        assert "整个系列不开了" not in listing
