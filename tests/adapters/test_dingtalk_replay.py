"""DingTalk's callback signature covers no part of the body: replays and forged reply URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlmodel import select

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import Member, SeenRequest, Suggestion, SuggestionStatus
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.dingtalk import APP_SECRET, CHAT, SECRET, TOKEN, ZHANG
from tests.support.fakes.dingtalk import FakeDingTalk, fake_dingtalk
from tests.support.loopback import serve
from tests.support.robots import add_group, rows

SECRETARY = ("manager7420", "王书记")
INTRUDER = ("intruder0001", "冒充的书记")


def dingtalk_settings(settings: Settings, fake: FakeDingTalk) -> Settings:
    return replace(settings, extra={
        "YEHUA_DINGTALK_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}",
        "YEHUA_DINGTALK_APP_SECRET": APP_SECRET,
        "YEHUA_DINGTALK_API_BASE": fake.url})


def prepare_group(app: web.Application) -> None:
    add_group(app, "dingtalk", CHAT, SECRETARY)


@asynccontextmanager
async def attacker() -> AsyncIterator[tuple[str, list[str]]]:
    """A second loopback server standing for the forger's: it records every request."""
    heard: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        heard.append(f"{request.method} {request.path_qs}")
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    async with serve(app) as url:
        yield url, heard


def forged(fake: FakeDingTalk, webhook: str, text: str) -> dict[str, Any]:
    """An @-message claiming a group admin, with a reply URL of the forger's choosing."""
    payload = fake.at_message(CHAT, INTRUDER, text, is_admin=True)
    payload["sessionWebhook"] = f"{webhook}/robot/sendBySession?session=stolen"
    return payload


async def answers_sent(bot: RunningApp) -> None:
    await bot.app[SERVICES].replies.drain()


async def test_a_captured_signature_replayed_with_a_new_body_is_refused_and_nothing_stored(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake, attacker() as (evil, heard), \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        stamp = str(int(fake.wall() * 1000))
        genuine = fake.at_message(CHAT, ZHANG, "建议 村口路灯坏了")
        assert await fake.callback(bot.url, genuine, app_secret=APP_SECRET,
                                   timestamp=stamp) == 200
        # The same timestamp and sign headers, carrying the forger's body: 409, not taken.
        replayed = forged(fake, evil, "/采纳 1 批给我五万块")
        assert await fake.callback(bot.url, replayed, app_secret=APP_SECRET,
                                   timestamp=stamp) == 409
        # So is the genuine body sent again under the same headers.
        assert await fake.callback(bot.url, genuine, app_secret=APP_SECRET,
                                   timestamp=stamp) == 409
        # The group goes on: a new, genuinely signed message is answered through DingTalk.
        assert await fake.callback(bot.url, fake.at_message(CHAT, ZHANG, "/积分"),
                                   app_secret=APP_SECRET) == 200
        await answers_sent(bot)
        [suggestion] = rows(bot, Suggestion)
        members = {m.user_id for m in rows(bot, Member)}
    assert suggestion.text == "村口路灯坏了" and suggestion.status == SuggestionStatus.NEW
    assert INTRUDER[0] not in members
    assert heard == []  # not one request to the forger's URL
    assert fake.delivered(f"session:{CHAT}")  # the answers went to DingTalk


async def test_a_replay_is_refused_after_a_restart_too(settings: Settings) -> None:
    async with fake_dingtalk() as fake:
        fake.add_robot(TOKEN, SECRET)
        stamp = str(int(fake.wall() * 1000))
        async with running(dingtalk_settings(settings, fake), prepare_group) as bot:
            assert await fake.callback(bot.url, fake.at_message(CHAT, ZHANG, "建议 修水渠"),
                                       app_secret=APP_SECRET, timestamp=stamp) == 200
        async with running(dingtalk_settings(settings, fake)) as bot:
            status = await fake.callback(bot.url, fake.at_message(CHAT, ZHANG, "建议 假的"),
                                         app_secret=APP_SECRET, timestamp=stamp)
            texts = [s.text for s in rows(bot, Suggestion)]
    assert status == 409
    assert texts == ["修水渠"]


async def test_signatures_are_forgotten_once_no_window_would_accept_them(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake, \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        three_hours_ago = str(int((fake.wall() - 3 * 3600) * 1000))
        with session(bot.app[ENGINE]) as db:
            db.add(SeenRequest(platform="dingtalk", signature=f"{three_hours_ago}:old",
                               seen_at=datetime.now(UTC) - timedelta(hours=3)))
        assert await fake.callback(bot.url, fake.at_message(CHAT, ZHANG, "建议 修桥"),
                                   app_secret=APP_SECRET) == 200
        with session(bot.app[ENGINE]) as db:
            kept = [r.signature for r in db.exec(select(SeenRequest))]
    assert len(kept) == 1 and not kept[0].endswith(":old")


async def test_a_session_webhook_on_another_host_is_never_called(settings: Settings) -> None:
    async with fake_dingtalk() as fake, attacker() as (evil, heard), \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        # Signed rightly (as if the app secret had leaked), with the forger's reply URL.
        assert await fake.callback(bot.url, forged(fake, evil, "建议 把鱼塘承包给我"),
                                   app_secret=APP_SECRET) == 200
        await answers_sent(bot)
        [suggestion] = rows(bot, Suggestion)
    assert heard == []
    # The acknowledgement went through the group's own robot instead.
    [ack] = fake.delivered(TOKEN)
    assert f"第 {suggestion.id} 号" in ack["text"]["content"]


async def test_an_expired_session_webhook_is_not_used(settings: Settings) -> None:
    async with fake_dingtalk() as fake, \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        expired = fake.at_message(CHAT, ZHANG, "建议 修路", session_ttl_s=-60)
        assert await fake.callback(bot.url, expired, app_secret=APP_SECRET) == 200
        await answers_sent(bot)
        [suggestion] = rows(bot, Suggestion)
    assert [s.to for s in fake.sent] == [TOKEN]  # the robot, never the dead session
    assert f"第 {suggestion.id} 号" in fake.delivered(TOKEN)[0]["text"]["content"]
