"""Storage faults on QQ (OneBot), WeCom, DingTalk and Feishu with the real app: a platform
that resends is told to; where none would, the bot keeps the event and writes it again, and
tells the member if it never can. Whatever comes again is stored once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web

from bot import texts
from bot.app import ENGINE, SERVICES
from bot.core.models import PointsEntry, Suggestion
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.dingtalk import APP_SECRET
from tests.support.dingtalk import CHAT as DING_CHAT
from tests.support.dingtalk import SECRET as DING_SECRET
from tests.support.dingtalk import TOKEN as DING_TOKEN
from tests.support.dingtalk import ZHANG as DING_ZHANG
from tests.support.fakes.dingtalk import fake_dingtalk
from tests.support.fakes.feishu import FakeFeishu, fake_feishu
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.wecom import FakeWeCom, ManualClock, start_fake_wecom
from tests.support.fakes.wecom_callback import WeComCallbackClient
from tests.support.faults import FAST_BUSY_MS, LONG_A, LONG_B, FullDatabase, write_lock
from tests.support.feishu import CHAT as FEISHU_CHAT
from tests.support.feishu import ENCRYPT_KEY, VERIFICATION
from tests.support.feishu import SECRET as FEISHU_SECRET
from tests.support.feishu import TOKEN as FEISHU_TOKEN
from tests.support.feishu import ZHANG as FEISHU_ZHANG
from tests.support.onebot import GROUP, ZHANG, prepare_qq_groups, said, stored, with_onebot
from tests.support.polling import eventually
from tests.support.robots import add_group, rows

SECRETARY = ("secretary0001", "王书记")
WECOM_KEY = "8a2f6c1e-3b4d-4f5a-9c7e-fengshu"
WECOM_CHAT = "wrkSFfCgAAfengshu"
WECOM_TOKEN = "Yehua2026Token"
WECOM_AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def faulty(settings: Settings, **extra: str) -> Settings:
    """Settings with a short wait for a held lock and a retry window of `extra`'s choosing."""
    window = extra.pop("window", "30")
    return replace(settings, db_busy_timeout_ms=FAST_BUSY_MS, storage_retry_seconds=float(window),
                   extra={**settings.extra, **extra, "YEHUA_STORAGE_RETRY_SECONDS": window})


async def test_a_qq_event_the_full_database_cannot_take_is_kept_and_stored_once(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(faulty(with_onebot(settings, napcat)), prepare_qq_groups) as bot:
        full = FullDatabase(bot.app[ENGINE])
        assert (await napcat.post_event(bot.url, napcat.group_message(
            GROUP, ZHANG, said(LONG_A))))[0] == 204
        full.fill()
        event = napcat.group_message(GROUP, ZHANG, said(LONG_B))
        assert (await napcat.post_event(bot.url, event))[0] == 503
        assert len(stored(bot.app)) == 1
        full.clear()
        # Nobody sends it again: the bot writes it again itself, and answers it then.
        await eventually(lambda: len(stored(bot.app)) == 2)
        await eventually(lambda: any("第 2 号" in s.text for s in napcat.answered(GROUP)))
        assert (await napcat.post_event(bot.url, event))[0] == 204  # QQ sent it twice after all
        await bot.app[SERVICES].replies.drain()
    assert [s.message_id for s in stored(bot.app)][1] == str(event["message_id"])
    assert sum("第 2 号" in s.text for s in napcat.answered(GROUP)) == 1
    assert not any(texts.STORAGE_NOT_SAVED in s.text for s in napcat.answered(GROUP))


async def test_a_qq_event_that_cannot_be_stored_in_time_is_given_back_to_its_sender(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(faulty(with_onebot(settings, napcat), window="1.5"),
                       prepare_qq_groups) as bot, napcat.reverse_ws(bot.url) as qq:
        with write_lock(settings.data_dir / "yehua.db"):
            await qq.send_event(napcat.group_message(GROUP, ZHANG, said("建议 村里修个小公园")))
            told = await eventually(lambda: [s for s in napcat.in_group(GROUP)
                                             if texts.STORAGE_NOT_SAVED in s.text], 15)
            assert stored(bot.app) == []
        await qq.send_event(napcat.group_message(GROUP, ZHANG, said("建议 村里修个小公园")))
        await eventually(lambda: len(stored(bot.app)) == 1)
    [notice] = told
    assert notice.first("at") == {"qq": str(ZHANG)}  # the member is @-ed
    assert stored(bot.app)[0].text == "村里修个小公园"


@pytest.fixture
async def wecom() -> AsyncIterator[FakeWeCom]:
    async with start_fake_wecom([WECOM_KEY], clock=ManualClock()) as fake:
        yield fake


def wecom_group(app: web.Application) -> None:
    add_group(app, "wecom", WECOM_CHAT, SECRETARY)


async def test_a_wecom_callback_during_a_held_lock_is_refused_and_its_retry_stored_once(
        settings: Settings, wecom: FakeWeCom) -> None:
    on_wecom = replace(settings, extra={
        "YEHUA_WECOM_ROBOTS": f"{WECOM_CHAT}:{WECOM_KEY}", "YEHUA_WECOM_API_BASE": wecom.url,
        "YEHUA_WECOM_TOKEN": WECOM_TOKEN, "YEHUA_WECOM_AES_KEY": WECOM_AES})
    async with running(faulty(on_wecom), wecom_group) as bot:
        member = WeComCallbackClient(f"{bot.url}/wecom/callback", WECOM_TOKEN, WECOM_AES)
        with write_lock(settings.data_dir / "yehua.db"):
            status, _ = await member.say(WECOM_CHAT, "ZhangDaYe", "建议 河边装个护栏",
                                         msgid="msg-0001")
            assert status >= 500 and rows(bot, Suggestion) == []
            # What the bot deliberately ignores is still taken: nothing of it needs storing.
            assert (await member.say(WECOM_CHAT, "LiShen", "大家晚上好"))[0] == 200
            assert (await member.say("wrkSomeOtherGroup", "LiShen", "建议 别的群"))[0] == 200
        # WeCom calls back again with the same message; and once more, by its own mistake.
        for _ in range(2):
            status, _ = await member.say(WECOM_CHAT, "ZhangDaYe", "建议 河边装个护栏",
                                         msgid="msg-0001")
            assert status == 200
    [suggestion] = rows(bot, Suggestion)
    assert (suggestion.text, suggestion.message_id) == ("河边装个护栏", "msg-0001")
    assert [(p.user_id, p.points) for p in rows(bot, PointsEntry)] == [("ZhangDaYe", 2)]


async def test_a_dingtalk_message_during_a_held_lock_is_kept_and_stored_once(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake:
        fake.add_robot(DING_TOKEN, DING_SECRET)
        on_dingtalk = replace(settings, extra={
            "YEHUA_DINGTALK_ROBOTS": f"{DING_CHAT}:{DING_TOKEN}:{DING_SECRET}",
            "YEHUA_DINGTALK_APP_SECRET": APP_SECRET, "YEHUA_DINGTALK_API_BASE": fake.url})
        async with running(faulty(on_dingtalk), lambda app: add_group(
                app, "dingtalk", DING_CHAT, SECRETARY)) as bot:
            message = fake.at_message(DING_CHAT, DING_ZHANG, "建议 村口装个凸面镜")
            with write_lock(settings.data_dir / "yehua.db"):
                assert await fake.callback(bot.url, message, app_secret=APP_SECRET) == 503
                assert rows(bot, Suggestion) == []
            await eventually(lambda: len(rows(bot, Suggestion)) == 1)
            # Should DingTalk send it again all the same, it is stored and answered once.
            assert await fake.callback(bot.url, message, app_secret=APP_SECRET) == 200
            await bot.app[SERVICES].replies.drain()
            answers = fake.delivered(f"session:{DING_CHAT}")
    [suggestion] = rows(bot, Suggestion)
    assert (suggestion.text, suggestion.message_id) == ("村口装个凸面镜", message["msgId"])
    assert [(p.user_id, p.points) for p in rows(bot, PointsEntry)] == [(DING_ZHANG[0], 2)]
    assert [a["text"]["content"] for a in answers] == [
        f"@{DING_ZHANG[0]} 收到，您的建议记下了，是第 {suggestion.id} 号。"
        "村里看过后会在群里回您，想问进展就发“我的建议”。"]


async def test_a_feishu_event_the_full_database_cannot_take_is_refused_and_its_retry_stored(
        settings: Settings) -> None:
    async with fake_feishu() as fake:
        fake.add_bot(FEISHU_TOKEN, FEISHU_SECRET)
        on_feishu = replace(settings, extra={
            "YEHUA_FEISHU_ROBOTS": f"{FEISHU_CHAT}:{FEISHU_TOKEN}:{FEISHU_SECRET}",
            "YEHUA_FEISHU_VERIFICATION_TOKEN": VERIFICATION,
            "YEHUA_FEISHU_ENCRYPT_KEY": ENCRYPT_KEY, "YEHUA_FEISHU_API_BASE": fake.url})
        async with running(faulty(on_feishu), lambda app: add_group(
                app, "feishu", FEISHU_CHAT, SECRETARY)) as bot:
            full = FullDatabase(bot.app[ENGINE])
            await feishu_says(fake, bot, LONG_A, expect=200)
            full.fill()
            event = fake.message_event(FEISHU_CHAT, FEISHU_ZHANG, LONG_B, token=VERIFICATION)
            status, _ = await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY)
            assert status == 503 and len(rows(bot, Suggestion)) == 1
            full.clear()
            for _ in range(2):  # Feishu's retry, then a duplicate push
                status, _ = await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY)
                assert status == 200
    texts_stored = sorted(s.text for s in rows(bot, Suggestion))
    assert texts_stored == sorted([LONG_A[3:], LONG_B[3:]])


async def feishu_says(fake: FakeFeishu, bot: RunningApp, text: str, *, expect: int) -> None:
    event = fake.message_event(FEISHU_CHAT, FEISHU_ZHANG, text, token=VERIFICATION)
    status, _ = await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY)
    assert status == expect
