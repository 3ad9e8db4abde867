"""Storage faults with the real app: the web chat and Telegram are never told a lost message
was taken, and what they send again once the fault clears is stored exactly once."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE, WEBCHAT
from bot.core.db import session
from bot.core.models import ChatMessage
from bot.settings import Settings, SettingsError, load_settings
from tests.support.app import RunningApp, running
from tests.support.fakes.telegram import FakeTelegram, start_fake_telegram
from tests.support.faults import (
    FAST_BUSY_MS,
    LONG_A,
    LONG_B,
    FullDatabase,
    disk_fills_at,
    write_lock,
)
from tests.support.loopback import free_port
from tests.support.polling import eventually
from tests.support.recordings import recording
from tests.support.telegram import VILLAGE, ZHANG, answer_to, groups, on_telegram, stored
from tests.support.village import ZHANG as VILLAGER
from tests.support.village import (
    deliver_event,
    event,
    joined,
    post_voice,
    prepare_village,
    say_by_voice,
    suggestions,
)

WEBHOOK_SECRET = "village-webhook-secret_2026"


def faulty(settings: Settings) -> Settings:
    """The app's own settings, with a short wait for a held write lock."""
    return replace(settings, db_busy_timeout_ms=FAST_BUSY_MS)


def chat_texts(bot: RunningApp) -> list[str]:
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot).is_(False))
                       .order_by(col(ChatMessage.id)))
        return [row.text for row in rows]


async def not_saved(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next `not_saved` frame, past the bot's posts still arriving."""
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=15)
        if frame["type"] != "message":
            return frame


async def test_a_web_chat_message_the_full_database_cannot_take_goes_back_to_its_sender(
        settings: Settings) -> None:
    async with running(faulty(settings), prepare_village) as bot, \
            joined(bot.url, VILLAGER) as zhang:
        full = FullDatabase(bot.app[ENGINE])
        await zhang.say(LONG_A)
        await eventually(lambda: len(suggestions(bot.app)) == 1)
        full.fill()
        await zhang.ws.send_json({"type": "post", "text": LONG_B})
        frame = await not_saved(zhang.ws)
        assert frame == {"type": "not_saved", "text": texts.WEB_NOT_SAVED, "draft": LONG_B}
        assert chat_texts(bot) == [LONG_A] and len(suggestions(bot.app)) == 1
        full.clear()
        answer = await zhang.ask(LONG_B)  # the member presses send again
        assert "第 2 号" in answer
    assert chat_texts(bot) == [LONG_A, LONG_B]
    assert [s.text for s in suggestions(bot.app)] == [LONG_A[3:], LONG_B[3:]]


async def test_a_stored_web_message_whose_suggestion_cannot_be_written_is_written_again(
        settings: Settings) -> None:
    async with running(replace(faulty(settings), storage_retry_seconds=30.0),
                       prepare_village) as bot, joined(bot.url, VILLAGER) as zhang:
        full = FullDatabase(bot.app[ENGINE])
        # Another message's suggestion takes most of the suggestions' page: the room's own
        # page still has room for one more message, the suggestions' page has none.
        await deliver_event(bot.app, event(VILLAGER, "earlier", LONG_A))
        full.fill()
        said = await zhang.say(LONG_B)  # stored and shown: the bot's own write fails
        await eventually(lambda: bot.app[WEBCHAT].redelivery.pending == 1)
        assert len(suggestions(bot.app)) == 1
        full.clear()
        answer = await zhang.sees("第 2 号")  # written again a moment later, and answered
    assert [s.message_id for s in suggestions(bot.app)] == ["earlier", str(said)]
    assert chat_texts(bot) == [LONG_B] and texts.STORAGE_NOT_SAVED not in answer


async def test_a_web_message_that_cannot_be_stored_in_time_is_handed_back_in_the_room(
        settings: Settings) -> None:
    async with running(replace(faulty(settings), storage_retry_seconds=1.5),
                       prepare_village) as bot, joined(bot.url, VILLAGER) as zhang:
        full = FullDatabase(bot.app[ENGINE])
        await deliver_event(bot.app, event(VILLAGER, "earlier", LONG_A))
        full.fill()
        await zhang.say(LONG_B)
        notice = await zhang.sees(texts.STORAGE_NOT_SAVED)
    assert notice == f"@{VILLAGER[1]} {texts.STORAGE_NOT_SAVED}"
    assert [s.message_id for s in suggestions(bot.app)] == ["earlier"]


async def test_a_web_chat_message_during_a_held_write_lock_is_refused_then_taken(
        settings: Settings) -> None:
    async with running(faulty(settings), prepare_village) as bot, \
            joined(bot.url, VILLAGER) as zhang:
        with write_lock(settings.data_dir / "yehua.db"):
            await zhang.ws.send_json({"type": "post", "text": "建议 祠堂的屋顶漏雨了"})
            frame = await not_saved(zhang.ws)
            assert frame["draft"] == "建议 祠堂的屋顶漏雨了"
        assert "第 1 号" in await zhang.ask("建议 祠堂的屋顶漏雨了")
    assert [s.text for s in suggestions(bot.app)] == ["祠堂的屋顶漏雨了"]


async def test_a_voice_upload_on_a_full_disk_is_refused_and_leaves_no_partial_file(
        settings: Settings) -> None:
    async with running(faulty(settings), prepare_village) as bot:
        before = set(settings.audio_dir.iterdir())
        with disk_fills_at(4096):
            status, body = await upload_voice(bot.url)
        assert (status, body) == (507, {"error": texts.WEB_VOICE_NOT_SAVED})
        assert set(settings.audio_dir.iterdir()) == before  # no truncated .mp3, no scratch file
        assert chat_texts(bot) == []
        said = await say_by_voice(bot.url, VILLAGER)  # sent again: stored whole
        [voice] = [p for p in settings.audio_dir.iterdir() if p not in before]
        assert voice.suffix == ".mp3" and voice.stat().st_size > 4096
        with session(bot.app[ENGINE]) as db:
            row = db.get(ChatMessage, said)
            assert row is not None and row.audio_url == f"/media/{voice.name}"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
async def test_a_voice_upload_to_a_read_only_audio_folder_is_refused_and_stores_nothing(
        settings: Settings) -> None:
    async with running(faulty(settings), prepare_village) as bot:
        before = set(settings.audio_dir.iterdir())
        settings.audio_dir.chmod(0o555)
        try:
            status, body = await upload_voice(bot.url)
        finally:
            settings.audio_dir.chmod(0o755)
        assert (status, body) == (507, {"error": texts.WEB_VOICE_NOT_SAVED})
        assert set(settings.audio_dir.iterdir()) == before and chat_texts(bot) == []


async def upload_voice(url: str) -> tuple[int, Any]:
    """A member sends a three-second recording to the room: the status and the answer."""
    return await post_voice(url, VILLAGER)


@asynccontextmanager
async def webhook_bot(settings: Settings) -> AsyncIterator[tuple[RunningApp, FakeTelegram]]:
    """The app on Telegram by webhook, on the port its public URL names. The fake waits a
    second between tries, as Telegram waits, so a test can clear the fault in between."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with start_fake_telegram(time_scale=1.0, https_webhooks_only=False) as fake:
        hooked = on_telegram(faulty(settings), fake,
                             YEHUA_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET)
        async with running(replace(hooked, port=port, public_url=url), groups(),
                           port=port) as bot:
            await eventually(lambda: fake.webhook)
            yield bot, fake


async def test_a_telegram_webhook_update_the_full_database_cannot_take_is_sent_again_once(
        settings: Settings) -> None:
    async with webhook_bot(settings) as (bot, fake):
        full = FullDatabase(bot.app[ENGINE])
        await answer_to(fake, fake.say(VILLAGE, ZHANG, LONG_A), "第 1 号")
        full.fill()
        said = fake.say(VILLAGE, ZHANG, LONG_B)
        await eventually(lambda: 503 in fake.webhook_answers)
        assert len(stored(bot.app)) == 1
        full.clear()
        answer = await answer_to(fake, said, "第 2 号")
    assert fake.webhook_answers[0] == 200 and fake.webhook_answers[-1] == 200
    _first, second = stored(bot.app)
    assert second.message_id == str(said["message"]["message_id"])
    assert second.text == LONG_B[3:] and answer.reply_to == said["message"]["message_id"]


async def test_a_long_polled_update_is_not_confirmed_until_it_is_stored(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(faulty(settings), telegram), groups()) as bot:
        hello = telegram.say(VILLAGE, ZHANG, "大家好")
        await eventually(lambda: max(telegram.offsets) > hello["update_id"])
        with write_lock(settings.data_dir / "yehua.db"):
            said = telegram.say(VILLAGE, ZHANG, "建议 村口的桥栏杆松了")
            update_id = said["update_id"]
            # Asked for again and again while the lock is held, never confirmed past it.
            await eventually(lambda: telegram.offsets.count(update_id) >= 3)
            assert max(telegram.offsets) == update_id and stored(bot.app) == []
        await answer_to(telegram, said, "第 1 号")
        await eventually(lambda: max(telegram.offsets) > update_id)
    [suggestion] = stored(bot.app)
    assert suggestion.text == "村口的桥栏杆松了"
    answers = [s for s in telegram.to(VILLAGE, "text")
               if s.reply_to == said["message"]["message_id"]]
    assert len(answers) == 1


async def test_a_telegram_voice_the_full_disk_cannot_take_is_fetched_again_and_kept_whole(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(faulty(settings), telegram), groups()) :
        hello = telegram.say(VILLAGE, ZHANG, "大家好")
        await eventually(lambda: max(telegram.offsets) > hello["update_id"])
        before = set(settings.audio_dir.iterdir())
        with disk_fills_at(4096):
            said = telegram.say_voice(VILLAGE, ZHANG, recording(3.0, container="ogg"), 3)
            await eventually(lambda: telegram.offsets.count(said["update_id"]) >= 3)
            assert set(settings.audio_dir.iterdir()) == before  # nothing half-written
        await eventually(lambda: max(telegram.offsets) > said["update_id"])
    [voice] = [p for p in settings.audio_dir.iterdir() if p not in before]
    assert voice.suffix == ".mp3" and voice.stat().st_size > 4096


def test_the_busy_timeout_and_the_retry_window_are_settings() -> None:
    env = {"YEHUA_DB_BUSY_TIMEOUT_MS": "250", "YEHUA_STORAGE_RETRY_SECONDS": "45"}
    loaded = load_settings(env)
    assert (loaded.db_busy_timeout_ms, loaded.storage_retry_seconds) == (250, 45.0)
    assert (Settings().db_busy_timeout_ms, Settings().storage_retry_seconds) == (5000, 120.0)
    for name, bad in (("YEHUA_DB_BUSY_TIMEOUT_MS", "soon"), ("YEHUA_STORAGE_RETRY_SECONDS", "0")):
        with pytest.raises(SettingsError, match=name):
            load_settings({name: bad})
