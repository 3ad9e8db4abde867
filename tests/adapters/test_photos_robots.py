"""Pictures from DingTalk's and Feishu's bots through the real app and the fakes' file APIs."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from bot.app import ENGINE, SERVICES
from bot.core.models import Suggestion
from bot.settings import Settings
from tests.support.app import running
from tests.support.dingtalk import APP_SECRET, CHAT, SECRET, TOKEN, ZHANG
from tests.support.fakes.dingtalk import FakeDingTalk, fake_dingtalk
from tests.support.fakes.feishu import APP_ID, FakeFeishu, fake_feishu
from tests.support.fakes.feishu import APP_SECRET as FEISHU_APP_SECRET
from tests.support.feishu import CHAT as FEISHU_CHAT
from tests.support.feishu import ENCRYPT_KEY, VERIFICATION
from tests.support.feishu import SECRET as FEISHU_SECRET
from tests.support.feishu import TOKEN as FEISHU_TOKEN
from tests.support.feishu import ZHANG as FEISHU_ZHANG
from tests.support.photos import media_files, photos, picture, thumbnail_size
from tests.support.robots import add_group, rows

SECRETARY = ("manager7420", "王书记")


def dingtalk_settings(settings: Settings, fake: FakeDingTalk) -> Settings:
    return replace(settings, extra={
        "YEHUA_DINGTALK_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}",
        "YEHUA_DINGTALK_APP_SECRET": APP_SECRET,
        "YEHUA_DINGTALK_API_BASE": fake.url, "YEHUA_DINGTALK_OPENAPI_BASE": fake.url})


def dingtalk_group(app: web.Application) -> None:
    add_group(app, "dingtalk", CHAT, SECRETARY)


async def test_a_dingtalk_picture_with_words_is_fetched_by_its_download_code(
        settings: Settings) -> None:
    async with fake_dingtalk(app_secret=APP_SECRET) as fake, \
            running(dingtalk_settings(settings, fake), dingtalk_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        shot = picture(2000, 1000)
        said = fake.picture_message(CHAT, ZHANG, shot, "建议 河堤塌了一块")
        assert await fake.callback(bot.url, said, app_secret=APP_SECRET) == 200
        [suggestion] = rows(bot, Suggestion)
        assert suggestion.text == "河堤塌了一块"
        [photo] = photos(bot.app[ENGINE])
        assert photo.suggestion_id == suggestion.id
        assert (settings.audio_dir / photo.path).read_bytes() == shot
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (320, 160)
        assert fake.downloads == [said["content"]["richText"][1]["downloadCode"]]
        await bot.app[SERVICES].replies.drain()
        [ack] = fake.delivered(f"session:{CHAT}")
        assert "照片都记下了" in ack["text"]["content"]


async def test_a_dingtalk_picture_alone_outside_a_talk_is_not_kept(settings: Settings) -> None:
    async with fake_dingtalk(app_secret=APP_SECRET) as fake, \
            running(dingtalk_settings(settings, fake), dingtalk_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        said = fake.picture_message(CHAT, ZHANG, picture(400, 400))
        assert said["msgtype"] == "picture"
        assert await fake.callback(bot.url, said, app_secret=APP_SECRET) == 200
        assert fake.downloads == [said["content"]["downloadCode"]]
        assert rows(bot, Suggestion) == [] and photos(bot.app[ENGINE]) == []
        assert media_files(settings.audio_dir) == set()


def feishu_settings(settings: Settings, fake: FakeFeishu) -> Settings:
    return replace(settings, extra={
        "YEHUA_FEISHU_ROBOTS": f"{FEISHU_CHAT}:{FEISHU_TOKEN}:{FEISHU_SECRET}",
        "YEHUA_FEISHU_VERIFICATION_TOKEN": VERIFICATION, "YEHUA_FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
        "YEHUA_FEISHU_API_BASE": fake.url, "YEHUA_FEISHU_APP_ID": APP_ID,
        "YEHUA_FEISHU_APP_SECRET": FEISHU_APP_SECRET})


def feishu_group(app: web.Application) -> None:
    add_group(app, "feishu", FEISHU_CHAT, SECRETARY)


async def test_a_feishu_post_with_a_picture_is_fetched_through_the_message_resource_api(
        settings: Settings) -> None:
    async with fake_feishu() as fake, \
            running(feishu_settings(settings, fake), feishu_group) as bot:
        fake.add_bot(FEISHU_TOKEN, FEISHU_SECRET)
        shot = picture(900, 1200, "png")
        event = fake.picture_event(FEISHU_CHAT, FEISHU_ZHANG, shot, "建议 学校门口加个减速带",
                                   token=VERIFICATION)
        status, _ = await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY)
        assert status == 200
        [suggestion] = rows(bot, Suggestion)
        assert suggestion.text == "学校门口加个减速带"
        [photo] = photos(bot.app[ENGINE])
        assert (photo.suggestion_id, photo.content_type) == (suggestion.id, "image/png")
        assert (settings.audio_dir / photo.path).read_bytes() == shot
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (240, 320)
        assert fake.fetched == [(event["event"]["message"]["message_id"],
                                 next(iter(fake.images))[1])]


async def test_a_feishu_picture_too_big_is_refused_with_a_message_and_not_kept(
        settings: Settings) -> None:
    async with fake_feishu() as fake, \
            running(feishu_settings(settings, fake), feishu_group) as bot:
        fake.add_bot(FEISHU_TOKEN, FEISHU_SECRET)
        huge = b"\xff\xd8\xff" + bytes(11 * 1024 * 1024)
        event = fake.picture_event(FEISHU_CHAT, FEISHU_ZHANG, huge, "建议 看看",
                                   token=VERIFICATION)
        await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY)
        await bot.app[SERVICES].replies.drain()
        [ack] = [b["content"]["text"] for b in fake.delivered(FEISHU_TOKEN)]
        assert "照片太大了" in ack
        assert photos(bot.app[ENGINE]) == [] and media_files(settings.audio_dir) == set()
