"""Pictures from WeCom's smart robot through the real app: fetched, decrypted, kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group
from bot.settings import Settings
from tests.support.app import RunningApp, running
from tests.support.fakes.wecom import FakeWeCom, start_fake_wecom
from tests.support.fakes.wecom_callback import WeComCallbackClient, seal_media
from tests.support.photos import media_files, photos, picture, thumbnail_size
from tests.support.polling import eventually

KEY = "8a2f6c1e-3b4d-4f5a-9c7e-fengshu"
CHAT = "wrkSFfCgAAfengshu"
TOKEN = "Yehua2026Token"
AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
ZHANG = "ZhangDaYe"


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeCom]:
    async with start_fake_wecom([KEY]) as fake:
        yield fake


def on_wecom(settings: Settings, fake: FakeWeCom) -> Settings:
    return replace(settings, extra={
        "YEHUA_WECOM_ROBOTS": f"{CHAT}:{KEY}", "YEHUA_WECOM_API_BASE": fake.url,
        "YEHUA_WECOM_TOKEN": TOKEN, "YEHUA_WECOM_AES_KEY": AES})


def village(app: web.Application) -> None:
    with session(app[ENGINE]) as db:
        db.add(Group(platform="wecom", chat_id=CHAT, name="枫树村大群"))


def member(bot: RunningApp) -> WeComCallbackClient:
    return WeComCallbackClient(f"{bot.url}/wecom/callback", TOKEN, AES)


def said(fake: FakeWeCom) -> list[str]:
    return [m["text"]["content"] for m in fake.delivered(KEY) if m["msgtype"] == "text"]


async def test_a_picture_with_a_suggestion_is_decrypted_and_kept_with_it(
        settings: Settings, fake_wecom: FakeWeCom) -> None:
    async with running(on_wecom(settings, fake_wecom), village) as bot:
        shot = picture(1024, 768)
        url = fake_wecom.host_picture(seal_media(shot, AES))
        status, _ = await member(bot).show(CHAT, ZHANG, "建议 桥头护栏松了", url)
        assert status == 200
        [photo] = photos(bot.app[ENGINE])  # kept before WeCom got its answer
        assert (settings.audio_dir / photo.path).read_bytes() == shot
        assert (photo.width, photo.height) == (1024, 768)
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (320, 240)
        [ack] = await eventually(lambda: said(fake_wecom), 30)
        assert "照片都记下了" in ack


async def test_a_picture_the_key_does_not_open_is_not_kept(
        settings: Settings, fake_wecom: FakeWeCom) -> None:
    async with running(on_wecom(settings, fake_wecom), village) as bot:
        url = fake_wecom.host_picture(picture(300, 300))  # not sealed: garbage to the bot
        await member(bot).show(CHAT, ZHANG, "建议 看看", url)
        assert fake_wecom.picture_downloads == 1
        assert photos(bot.app[ENGINE]) == [] and media_files(settings.audio_dir) == set()
