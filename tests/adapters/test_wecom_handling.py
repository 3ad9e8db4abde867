"""Handlers on WeCom, whose robot cannot write to one person: an @-line, and no digest at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import Group, Member, Role, Suggestion
from bot.domain.handling import DIGEST_KIND
from bot.settings import Settings
from scheduler.models import Timer
from tests.support.app import RunningApp, running
from tests.support.fakes.wecom import FakeWeCom, ManualClock, start_fake_wecom
from tests.support.fakes.wecom_callback import WeComCallbackClient
from tests.support.polling import eventually

KEY = "8a2f6c1e-3b4d-4f5a-9c7e-handlers"
CHAT = "wrkSFfCgAAhandlers"
TOKEN = "Yehua2026Token"
AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
ZHANG, SECRETARY, WANG = "ZhangDaYe", "LiShuJi", "WangWangGe"
WITHIN = 90.0  # the outbox paces WeCom to 20 messages a minute


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeCom]:
    async with start_fake_wecom([KEY], clock=ManualClock()) as fake:
        yield fake


def village(app: web.Application) -> None:
    with session(app[ENGINE]) as db:
        group = Group(platform="wecom", chat_id=CHAT, name="枫树村大群")
        db.add(group)
        db.flush()
        assert group.id is not None
        db.add(Member(group_id=group.id, user_id=SECRETARY, display_name="李书记",
                      role=Role.SECRETARY))
        db.add(Member(group_id=group.id, user_id=ZHANG, display_name="张大爷"))
        db.add(Member(group_id=group.id, user_id=WANG, display_name="王网格"))


def texts(fake: FakeWeCom) -> list[dict[str, Any]]:
    return [m["text"] for m in fake.delivered(KEY) if m["msgtype"] == "text"]


def stored(bot: RunningApp) -> list[Suggestion]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


async def test_the_handler_is_mentioned_in_one_line_and_no_digest_reaches_the_group(
        settings: Settings, fake_wecom: FakeWeCom) -> None:
    wecom = replace(settings, extra={
        "YEHUA_WECOM_ROBOTS": f"{CHAT}:{KEY}", "YEHUA_WECOM_API_BASE": fake_wecom.url,
        "YEHUA_WECOM_TOKEN": TOKEN, "YEHUA_WECOM_AES_KEY": AES})
    async with running(wecom, village) as bot:
        people = WeComCallbackClient(f"{bot.url}/wecom/callback", TOKEN, AES)
        await people.say(CHAT, ZHANG, "建议 修一修水渠")
        await people.say(CHAT, SECRETARY, "/采纳 1 交给 王网格 明天 好")
        told = await eventually(lambda: [t for t in texts(fake_wecom)
                                         if "交给您办" in t["content"]], WITHIN)
        assert len(told) == 1 and told[0]["mentioned_list"] == [WANG]
        assert "\n" not in told[0]["content"].strip()  # one line, not the whole letter
        assert stored(bot)[0].handler_user_id == WANG
        await bot.app[SERVICES].replies.drain()
        before = len(texts(fake_wecom))
        for _ in range(3):  # mornings pass; the item falls overdue
            with session(bot.app[ENGINE]) as db:
                due = db.exec(select(Timer).where(Timer.kind == DIGEST_KIND,
                                                  Timer.status == "pending")).one().due_at
            at = due + timedelta(minutes=1)
            bot.app[SERVICES].clock = lambda at=at: at
            await bot.app[SCHEDULER].fire_timers(at)
        await bot.app[SERVICES].replies.drain()
        assert len(texts(fake_wecom)) == before
        assert not any("过了期限" in t["content"] for t in texts(fake_wecom))
