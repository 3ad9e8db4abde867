"""Telegram updates through the real app: webhook secret, voice, polling faults, migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiohttp import web
from sqlmodel import select

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import Group, NightTalk
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.fakes.telegram import FakeTelegram, start_fake_telegram
from tests.support.loopback import free_port
from tests.support.polling import eventually
from tests.support.recordings import recording
from tests.support.telegram import (
    FAST,
    HOST,
    LI,
    VILLAGE,
    ZHANG,
    answer_to,
    groups,
    on_telegram,
    post_lesson,
    stored,
    texts_with,
)

SECRET = "village-webhook-secret_2026"
HEADER = "X-Telegram-Bot-Api-Secret-Token"



@asynccontextmanager
async def running_at_its_url(settings: Settings, prepare: Any) -> AsyncIterator[RunningApp]:
    """The app listening on the port its YEHUA_PUBLIC_URL names, so a webhook can reach it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with running(replace(settings, port=port, public_url=url), prepare, port=port) as bot:
        yield bot


def hooked(settings: Settings, fake: FakeTelegram) -> Settings:
    return on_telegram(settings, fake, YEHUA_TELEGRAM_WEBHOOK_SECRET=SECRET)


def group_row(app: web.Application) -> Group:
    with session(app[ENGINE]) as db:
        return db.exec(select(Group).where(Group.platform == "telegram")).one()


async def test_a_webhook_post_without_the_right_secret_is_refused_and_nothing_is_stored(
    settings: Settings
) -> None:
    async with start_fake_telegram(time_scale=FAST, https_webhooks_only=False) as fake, \
            running_at_its_url(hooked(settings, fake), groups()) as bot:
        await eventually(lambda: fake.webhook)
        update = {"update_id": 9001, "message": {
            "message_id": 77, "date": 1764154800, "text": "建议 假冒的建议",
            "chat": {"id": VILLAGE, "type": "supergroup", "title": "村民群"},
            "from": {"id": 666, "is_bot": False, "first_name": "冒充者"}}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {HEADER: "guessed"}, {HEADER: SECRET + "x"}):
                async with http.post(f"{bot.url}/telegram/webhook", json=update,
                                     headers=headers) as response:
                    assert response.status == 401
            async with http.post(f"{bot.url}/telegram/webhook", data=b"{not json",
                                 headers={HEADER: SECRET}) as response:
                assert response.status == 400
        assert stored(bot.app) == []
        assert fake.sent == []


async def test_the_webhook_is_registered_with_its_secret_and_updates_pushed_to_it_are_answered(
    settings: Settings
) -> None:
    async with start_fake_telegram(time_scale=FAST, https_webhooks_only=False) as fake, \
            running_at_its_url(hooked(settings, fake), groups()) as bot:
        hook = await eventually(lambda: fake.webhook)
        assert hook == {"url": f"{bot.url}/telegram/webhook", "secret_token": SECRET}
        said = fake.say(VILLAGE, ZHANG, "建议 村里的垃圾桶不够用")
        assert "第 1 号" in (await answer_to(fake, said)).text
        assert fake.webhook_answers == [200]
        [suggestion] = stored(bot.app)
        assert suggestion.text == "村里的垃圾桶不够用"


async def test_a_voice_message_during_an_open_night_talk_becomes_a_voice_suggestion(
    settings: Settings, telegram: FakeTelegram
) -> None:
    telegram.statuses[(VILLAGE, HOST["id"])] = "administrator"  # may host night talks
    async with running(on_telegram(settings, telegram), groups()) as bot:
        telegram.say(VILLAGE, HOST, "/安排夜话 明晚7点半 村里修路")
        telegram.say(VILLAGE, HOST, "确认")
        await eventually(lambda: texts_with(telegram, "【夜话预告】"))
        with session(bot.app[ENGINE]) as db:
            talk = db.exec(select(NightTalk)).one()
        await bot.app[SCHEDULER].run_due(talk.starts_at)
        [opening] = await eventually(lambda: texts_with(telegram, "【夜话开始】"))
        ogg = recording(3.0, container="ogg")
        said = telegram.say_voice(VILLAGE, LI, ogg, duration=3)
        answer = await answer_to(telegram, said, "第 1 号")
        assert "语音" in answer.text
        suggestion = stored(bot.app)[0]
        assert suggestion.night_talk_id == talk.id and suggestion.author_name == "李婶"
        assert suggestion.voice_path is not None
        with av.open(suggestion.voice_path) as saved:  # kept as MP3, all three seconds of it
            assert saved.streams.audio[0].codec_context.name in ("mp3", "mp3float")
            assert 2.5 < float(saved.duration or 0) / 1_000_000 < 3.5
        assert Path(suggestion.voice_path).parent == settings.audio_dir
        assert telegram.called("getFile")
        # A reply to the bot's opening note is a suggestion too.
        replied = telegram.say(VILLAGE, ZHANG, "东头的水渠该清一清了", reply_to=opening.message_id)
        assert "第 2 号" in (await answer_to(telegram, replied)).text
        assert stored(bot.app)[1].text == "东头的水渠该清一清了"


async def test_a_voice_captioned_with_the_suggest_command_is_a_voice_suggestion(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        for caption in ("建议", "/建议"):
            said = telegram.say_voice(VILLAGE, LI, recording(2.0, container="ogg"),
                                      duration=2, caption=caption)
            answer = await answer_to(telegram, said, "号")
            assert "语音" in answer.text, caption
        rows = stored(bot.app)
    assert [(row.author_name, row.text) for row in rows] == [("李婶", ""), ("李婶", "")]
    assert all(row.voice_path is not None for row in rows)  # the voice kept, not dropped


async def test_long_polling_keeps_going_through_server_errors_and_a_rival_poller(
    settings: Settings, telegram: FakeTelegram
) -> None:
    telegram.fail(502, times=2, method="getUpdates")
    async with running(on_telegram(settings, telegram), groups()) as bot:
        await eventually(lambda: len(telegram.called("getUpdates")) >= 3)
        # Another instance polls with the same token: ours is told 409 and comes back.
        async with aiohttp.ClientSession() as http, http.post(
                f"{telegram.url}/bot{telegram.token}/getUpdates",
                data={"timeout": "0"}) as response:
            assert response.status == 200
        said = telegram.say(VILLAGE, ZHANG, "建议 路边的树该修剪了")
        assert "第 1 号" in (await answer_to(telegram, said)).text
        assert len(stored(bot.app)) == 1


async def test_a_lesson_follows_a_group_that_became_a_supergroup(
    settings: Settings, telegram: FakeTelegram
) -> None:
    old, new = -4012345678, -1004012345678
    telegram.moved[old] = new  # upgraded while the bot was not looking
    async with running(on_telegram(settings, telegram), groups(old)) as bot:
        await post_lesson(bot.app)
        await eventually(lambda: telegram.to(new, "voice"))
        assert [s.kind for s in telegram.to(new)] == ["text", "voice"]
        assert telegram.to(old) == []
        assert group_row(bot.app).chat_id == str(new)


async def test_a_migration_note_updates_the_groups_chat_id(
    settings: Settings, telegram: FakeTelegram
) -> None:
    old, new = -4012345678, -1004012345678
    async with running(on_telegram(settings, telegram), groups(old)) as bot:
        telegram.migrate(old, new, by=ZHANG)
        await eventually(lambda: group_row(bot.app).chat_id == str(new))
        said = telegram.say(new, ZHANG, "建议 新群里也能提建议")
        assert "第 1 号" in (await answer_to(telegram, said)).text
        assert stored(bot.app)[0].chat_id == str(new)


async def test_messages_from_a_group_nobody_added_are_ignored_without_downloads(
    settings: Settings, telegram: FakeTelegram
) -> None:
    stranger = -1009999999999
    async with running(on_telegram(settings, telegram), groups()) as bot:
        telegram.say_voice(stranger, LI, recording(2.0, container="ogg"), duration=2)
        telegram.say(stranger, LI, "/采纳 1 好")
        last = telegram.say(stranger, LI, "建议 这里不是我们的群")
        await eventually(lambda: max(telegram.offsets) > last["update_id"])
        assert stored(bot.app) == [] and telegram.to(stranger) == []
        assert not telegram.called("getFile") and not telegram.called("getChatMember")
