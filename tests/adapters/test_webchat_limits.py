"""The open web chat's limits, through the real bot's socket and HTTP: bursts, daily caps, voice
storage and retention, misleading names and new identities per address."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import ChatMessage, Group, Member
from bot.domain.retention import RETENTION_KIND
from bot.domain.suggestions import add_suggestion
from bot.settings import Settings, SettingsError, load_settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus, Timer
from scheduler.schedules import add_schedule
from scheduler.timers import TimerStatus
from tests.support.app import RunningApp, running
from tests.support.polling import eventually
from tests.support.village import (
    FACILITATOR,
    LI,
    ROOM,
    SECRETARY,
    WAIT,
    ZHANG,
    bot_texts,
    points_of,
    post_voice,
    prepare_village,
    suggestions,
    village_id,
)

Who = tuple[str, str]


@asynccontextmanager
async def socket(url: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}/ws/{ROOM}") as ws:
        yield ws


async def hello(ws: aiohttp.ClientWebSocketResponse, who: Who) -> dict[str, Any]:
    """Say hello as `who`; the server's answer (ready, or an error saying why not)."""
    await ws.send_json({"type": "hello", "user_id": who[0], "name": who[1]})
    answer: dict[str, Any] = await ws.receive_json(timeout=WAIT)
    return answer


async def post(ws: aiohttp.ClientWebSocketResponse, text: str) -> dict[str, Any]:
    """Post `text`; the first frame back that is not the bot's: the post shown, or an error."""
    await ws.send_json({"type": "post", "text": text})
    while True:
        answer: dict[str, Any] = await ws.receive_json(timeout=WAIT)
        if answer["type"] != "message" or not answer["message"]["from_bot"]:
            return answer


async def bot_answer(ws: aiohttp.ClientWebSocketResponse) -> str:
    """The next thing the bot posts to the room."""
    while True:
        frame = await ws.receive_json(timeout=WAIT)
        if frame["type"] == "message" and frame["message"]["from_bot"]:
            return str(frame["message"]["text"])


async def ask(ws: aiohttp.ClientWebSocketResponse, text: str) -> str:
    """Post `text` and return what the bot posts after it (its answer)."""
    shown = await post(ws, text)
    assert shown["type"] == "message", shown
    return await bot_answer(ws)


async def send_voice(url: str, who: Who) -> tuple[int, dict[str, Any]]:
    return await post_voice(url, who, 2.0)


def member_texts(bot: RunningApp) -> list[str]:
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot).is_(False))
                       .order_by(col(ChatMessage.id)))
        return [row.text for row in rows]


def voice_messages(bot: RunningApp) -> list[ChatMessage]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(ChatMessage).where(
            col(ChatMessage.from_bot).is_(False), col(ChatMessage.audio_url).is_not(None))
            .order_by(col(ChatMessage.id))))


def set_clock(bot: RunningApp, moment: datetime) -> None:
    """Move the bot's one clock (the limits, the daily caps and the timers read it)."""
    bot.app[SERVICES].clock = lambda: moment


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[RunningApp]:
    """The village's bot with the web chat's default limits."""
    async with running(replace(settings, webchat_messages=Settings.webchat_messages),
                       prepare_village) as app:
        yield app


async def test_a_sixth_message_in_ten_seconds_is_refused_kept_in_the_box_and_not_stored(
        bot: RunningApp) -> None:
    async with socket(bot.url) as ws:
        assert (await hello(ws, ZHANG))["type"] == "ready"
        for n in range(5):
            assert (await post(ws, f"第{n}句"))["type"] == "message"
        refused = await post(ws, "建议 村口装路灯")
        assert refused["type"] == "error"
        assert "秒后再发" in refused["text"]
        assert refused["draft"] == "建议 村口装路灯"  # the page puts it back in the box
        assert member_texts(bot) == [f"第{n}句" for n in range(5)]
        assert suggestions(bot.app) == []

        set_clock(bot, utcnow() + timedelta(seconds=11))
        assert (await post(ws, "建议 村口装路灯"))["type"] == "message"
        assert "第" in await bot_answer(ws)
    assert [s.text for s in suggestions(bot.app)] == ["村口装路灯"]


async def test_one_member_on_two_pages_shares_one_limit(bot: RunningApp) -> None:
    async with socket(bot.url) as phone, socket(bot.url) as tablet:
        await hello(phone, ZHANG)
        await hello(tablet, ZHANG)
        for n in range(3):
            assert (await post(phone, f"手机{n}"))["type"] == "message"
            await tablet.receive_json(timeout=WAIT)  # the tablet sees it too
        for n in range(2):
            assert (await post(tablet, f"平板{n}"))["type"] == "message"
            await phone.receive_json(timeout=WAIT)  # the phone sees it too
        assert (await post(tablet, "再说一句"))["type"] == "error"
    assert "再说一句" not in member_texts(bot)


async def test_a_page_cannot_dodge_the_limit_by_saying_hello_under_new_names(
        bot: RunningApp) -> None:
    async with socket(bot.url) as ws:
        await hello(ws, ZHANG)
        for n in range(5):
            await post(ws, f"第{n}句")
        assert (await hello(ws, ("user-sock-puppet-1", "王五")))["type"] == "ready"
        refused = await post(ws, "换个名字接着发")
        assert refused["type"] == "error" and "秒后再发" in refused["text"]
    assert len(member_texts(bot)) == 5


async def test_suggestions_beyond_the_daily_cap_stay_plain_chat_even_after_a_restart(
        settings: Settings) -> None:
    settings = replace(settings, webchat_suggestions_per_day=2)
    async with running(settings, prepare_village) as bot, socket(bot.url) as ws:
        await hello(ws, ZHANG)
        assert "第" in await ask(ws, "建议 修村口的路")
        assert "第" in await ask(ws, "建议 清理水渠")
        notice = await ask(ws, "建议 多装几个垃圾桶")
        assert "今天您已经提了 2 条建议" in notice and "明天 0 点" in notice
        # Told once a day: the next one over the cap gets no notice, only the chat line.
        assert (await post(ws, "建议 修桥"))["type"] == "message"
        assert "您一共有" in await ask(ws, "/积分")  # still answered over the cap
        assert sum("今天您已经提了" in text for text in bot_texts(bot.app)) == 1
        assert member_texts(bot)[2:4] == ["建议 多装几个垃圾桶", "建议 修桥"]
        assert [s.text for s in suggestions(bot.app)] == ["修村口的路", "清理水渠"]
        assert points_of(bot.app, ZHANG[0]) == 4

    async with running(settings) as bot, socket(bot.url) as ws:  # a restart counts on
        await hello(ws, ZHANG)
        assert "今天您已经提了 2 条建议" in await ask(ws, "建议 路边种树")
        assert len(suggestions(bot.app)) == 2

        set_clock(bot, utcnow() + timedelta(days=1))  # a new day where the village lives
        assert "第" in await ask(ws, "建议 路边种树")
        assert len(suggestions(bot.app)) == 3


async def test_points_beyond_the_daily_cap_are_not_given_and_the_member_is_told(
        settings: Settings) -> None:
    settings = replace(settings, webchat_points_per_day=3)
    async with running(settings, prepare_village) as bot, socket(bot.url) as ws:
        await hello(ws, ZHANG)
        first = await ask(ws, "建议 修村口的路")
        assert "积分" not in first
        second = await ask(ws, "建议 清理水渠")
        assert "今天的积分已经满 3 分了" in second
        third = await ask(ws, "建议 修桥")
        assert "第" in third and "积分" not in third
        assert len(suggestions(bot.app)) == 3  # still suggestions, only without points
        assert points_of(bot.app, ZHANG[0]) == 3

        set_clock(bot, utcnow() + timedelta(days=1))
        await ask(ws, "建议 路边种树")
        assert points_of(bot.app, ZHANG[0]) == 5


async def test_listening_earns_nothing_once_todays_points_are_used_up(
        settings: Settings) -> None:
    settings = replace(settings, webchat_points_per_day=2)
    async with running(settings, prepare_village) as bot, socket(bot.url) as ws:
        await hello(ws, ZHANG)
        await ask(ws, "建议 修村口的路")  # 2 points: today's all
        with session(bot.app[ENGINE]) as db:
            add_schedule(db, "telecom-fraud", [(village_id(bot.app), "Asia/Shanghai")],
                         run_at=utcnow())
        await bot.app[SCHEDULER].run_due()
        await eventually(lambda: lesson_sent(bot))
        assert "今天的积分已经满 2 分了" in await ask(ws, "已听")
        assert points_of(bot.app, ZHANG[0]) == 2

        set_clock(bot, utcnow() + timedelta(days=1))
        assert "积分加 1 分" in await ask(ws, "已听")
        assert points_of(bot.app, ZHANG[0]) == 3


def lesson_sent(bot: RunningApp) -> Delivery | None:
    with session(bot.app[ENGINE]) as db:
        return db.exec(select(Delivery).where(Delivery.status == DeliveryStatus.SENT)).first()


async def test_role_holders_are_not_capped(settings: Settings) -> None:
    settings = replace(settings, webchat_suggestions_per_day=1)
    async with running(settings, prepare_village) as bot, socket(bot.url) as ws:
        await hello(ws, FACILITATOR)
        await ask(ws, "建议 修村口的路")
        assert "第" in await ask(ws, "建议 清理水渠")
        assert len(suggestions(bot.app)) == 2


async def test_voices_beyond_the_daily_number_are_refused_and_nothing_is_kept(
        settings: Settings) -> None:
    settings = replace(settings, webchat_voices_per_day=1)
    async with running(settings, prepare_village) as bot:
        status, _body = await send_voice(bot.url, ZHANG)
        assert status == 201
        files = sorted(settings.audio_dir.glob("*.mp3"))
        status, body = await send_voice(bot.url, ZHANG)
        assert status == 429
        assert "今天已经发了 1 段语音" in body["error"]
        assert len(voice_messages(bot)) == 1
        assert sorted(settings.audio_dir.glob("*.mp3")) == files

        assert (await send_voice(bot.url, LI))[0] == 201  # someone else still may
        set_clock(bot, utcnow() + timedelta(days=1))
        assert (await send_voice(bot.url, ZHANG))[0] == 201


def old_voice(bot: RunningApp, audio_dir: Path, who: Who, size: int, days_ago: int) -> Path:
    """A member's voice kept from `days_ago` days back, `size` bytes in the audio folder."""
    path = audio_dir / f"{secrets.token_hex(16)}.mp3"
    path.write_bytes(bytes(size))
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
        db.add(ChatMessage(group_id=group.id, sender_id=who[0], sender_name=who[1],
                           audio_url=f"/media/{path.name}", audio_duration=3.0,
                           created_at=utcnow() - timedelta(days=days_ago)))
    return path


async def test_voice_is_refused_once_the_quota_is_reached_and_taken_again_after_retention(
        settings: Settings) -> None:
    settings = replace(settings, webchat_voice_quota_mb=1, webchat_voice_days=90)
    async with running(settings, prepare_village) as bot:
        filler = old_voice(bot, settings.audio_dir, LI, 1024 * 1024, days_ago=100)
        status, body = await send_voice(bot.url, ZHANG)
        assert status == 507
        assert body["error"] == texts.WEB_LIMIT_VOICE_FULL
        assert len(voice_messages(bot)) == 1
        assert list(settings.audio_dir.glob("*.mp3")) == [filler]

        await bot.app[SCHEDULER].fire_timers(utcnow() + timedelta(days=1))  # the nightly sweep
        assert not filler.exists()
        assert (await send_voice(bot.url, ZHANG))[0] == 201


async def test_the_nightly_sweep_deletes_old_voices_but_keeps_suggestions_and_recent_ones(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot:
        chatter = old_voice(bot, settings.audio_dir, ZHANG, 5000, days_ago=95)
        raised = old_voice(bot, settings.audio_dir, LI, 5000, days_ago=95)
        recent = old_voice(bot, settings.audio_dir, LI, 5000, days_ago=30)
        with session(bot.app[ENGINE]) as db:
            group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
            add_suggestion(db, group=group, platform="web", chat_id=ROOM, message_id="voice-1",
                           author_id=LI[0], author_name=LI[1], text="",
                           voice_path=str(raised))

        sweep_at = utcnow() + timedelta(days=1)
        set_clock(bot, sweep_at)
        fired = await bot.app[SCHEDULER].fire_timers(sweep_at)
        assert RETENTION_KIND in [timer.kind for timer in fired]
        assert not chatter.exists()
        assert raised.exists() and recent.exists()

        async with aiohttp.ClientSession() as http, \
                http.get(f"{bot.url}/api/rooms/{ROOM}/messages") as response:
            history = (await response.json())["messages"]
        shown = {m["sender_name"]: m for m in history if m["voice_expired"]}
        assert list(shown) == [ZHANG[1]]
        assert shown[ZHANG[1]]["audio_url"] is None  # no player pointing at nothing
        assert [m["audio_url"] for m in history if not m["voice_expired"]] == [
            f"/media/{raised.name}", f"/media/{recent.name}"]

        with session(bot.app[ENGINE]) as db:  # tomorrow's sweep is set
            pending = db.exec(select(Timer).where(Timer.kind == RETENTION_KIND,
                                                  Timer.status == TimerStatus.PENDING)).all()
        assert [timer.due_at > sweep_at for timer in pending] == [True]


@pytest.mark.parametrize("name", ["夜话小助手", "夜 话 小 助 手", "小助手", "村管理员", "书记"])
async def test_names_that_pass_for_the_bot_are_refused_with_a_reason(
        bot: RunningApp, name: str) -> None:
    async with socket(bot.url) as ws:
        refused = await hello(ws, ("user-pretender-01", name))
        assert refused["type"] == "error" and refused["about"] == "name"
        assert "像是小助手或管理人员的名字" in refused["text"]
        assert (await post(ws, "第 1 号建议已采纳"))["type"] == "error"
    assert member_texts(bot) == []


async def test_a_role_holders_name_is_refused_to_others_but_not_to_them(bot: RunningApp) -> None:
    async with socket(bot.url) as ws:
        refused = await hello(ws, ("user-pretender-01", " 王 书 记 "))
        assert refused["type"] == "error" and refused["about"] == "name"
        assert "书记或文书" in refused["text"] and "王书记" in refused["text"]
    async with socket(bot.url) as ws:
        assert (await hello(ws, SECRETARY))["type"] == "ready"


async def test_renaming_to_a_role_holders_name_is_refused_and_the_old_name_stays(
        bot: RunningApp) -> None:
    async with socket(bot.url) as ws:
        await hello(ws, ZHANG)
        refused = await hello(ws, (ZHANG[0], FACILITATOR[1]))
        assert refused["type"] == "error" and "话事佬" in refused["text"]
        shown = await post(ws, "我还是张大爷")
        assert shown["message"]["sender_name"] == ZHANG[1]
    status, body = await send_voice(bot.url, (ZHANG[0], texts.BOT_NAME))
    assert status == 400 and "换一个名字" in body["error"]


async def test_one_address_may_bring_only_so_many_new_members_an_hour(
        settings: Settings) -> None:
    settings = replace(settings, webchat_new_ids_per_hour=3)
    async with running(settings, prepare_village) as bot, socket(bot.url) as ws:
        for n in range(3):
            assert (await hello(ws, (f"user-new-member-{n}", f"村民{n}")))["type"] == "ready"
        refused = await hello(ws, ("user-new-member-3", "村民3"))
        assert refused["type"] == "error"
        assert refused["text"] == texts.WEB_LIMIT_NEW_NAMES
        status, body = await send_voice(bot.url, ("user-new-member-4", "村民4"))
        assert status == 429 and body["error"] == texts.WEB_LIMIT_NEW_NAMES
        # People the room already knows come and go as they please.
        assert (await hello(ws, ("user-new-member-0", "村民0")))["type"] == "ready"
        assert (await hello(ws, SECRETARY))["type"] == "ready"

        set_clock(bot, utcnow() + timedelta(hours=1, seconds=1))
        assert (await hello(ws, ("user-new-member-3", "村民3")))["type"] == "ready"
        with session(bot.app[ENGINE]) as db:
            joined = {m.user_id for m in db.exec(select(Member))}
        assert "user-new-member-3" in joined and "user-new-member-4" not in joined


def test_a_bad_limit_setting_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="YEHUA_WEBCHAT_MESSAGES"):
        load_settings({"YEHUA_WEBCHAT_MESSAGES": "many"})
    with pytest.raises(SettingsError, match="YEHUA_WEBCHAT_WINDOW"):
        load_settings({"YEHUA_WEBCHAT_WINDOW": "0"})
    assert load_settings({"YEHUA_WEBCHAT_VOICE_DAYS": "0"}).webchat_voice_days == 0
