"""Photos through the real app's web chat: uploaded over HTTP, kept with their suggestion."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import ChatMessage, NightTalk, NightTalkStatus, PhotoKind, SuggestionStatus
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.app import running
from tests.support.faults import disk_fills_at
from tests.support.photos import media_files, photos, picture, thumbnail_size
from tests.support.polling import eventually
from tests.support.village import (
    LI,
    ROOM,
    SECRETARY,
    ZHANG,
    joined,
    prepare_village,
    suggestions,
    village_id,
)


async def post_photo(url: str, who: tuple[str, str], data: bytes, caption: str = "",
                     filename: str = "IMG_0001.jpg") -> tuple[int, Any]:
    """Send a picture to the room as the page's camera button does."""
    form = FormData()
    form.add_field("user_id", who[0])
    form.add_field("name", who[1])
    form.add_field("text", caption)
    form.add_field("photo", data, filename=filename, content_type="image/jpeg")
    async with aiohttp.ClientSession() as http, \
            http.post(f"{url}/api/rooms/{ROOM}/photo", data=form) as response:
        return response.status, await response.json()


async def test_a_photo_with_its_suggestion_is_kept_thumbnailed_shown_and_served(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        status, body = await post_photo(bot.url, ZHANG, picture(1600, 1200), "建议 村口路灯坏了")
        assert status == 201
        assert body["message"]["image_url"].startswith("/media/")
        assert body["message"]["text"] == "建议 村口路灯坏了"
        answer = await zhang.sees("照片")
        assert answer == ("收到，您的建议和照片都记下了，是第 1 号。"
                          "村里看过后会在群里回您，谢谢您！")

        [row] = suggestions(bot.app)
        assert row.text == "村口路灯坏了"
        [photo] = photos(bot.app[ENGINE])
        assert (photo.suggestion_id, photo.kind, photo.uploader_name) == (1, PhotoKind.RAISED,
                                                                         "张大爷")
        assert (photo.width, photo.height, photo.content_type) == (1600, 1200, "image/jpeg")
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (320, 240)
        assert body["message"]["image_url"] == f"/media/{photo.path}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{bot.url}/media/{photo.path}") as served:
                assert served.status == 200
                assert served.headers["Content-Type"] == "image/jpeg"
                assert await served.read() == (settings.audio_dir / photo.path).read_bytes()
            async with http.get(f"{bot.url}/api/rooms/{ROOM}/messages") as history:
                shown = (await history.json())["messages"]
        assert [m["image_url"] for m in shown if m["image_url"]] == [f"/media/{photo.path}"]


async def test_photos_named_by_number_join_the_suggestion_and_a_repeat_is_kept_once(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        assert "第 1 号" in await zhang.ask("建议 修一修东头的水渠")
        status, _ = await post_photo(bot.url, ZHANG, picture(800, 600, "png"), "第1号")
        assert status == 201
        assert await zhang.sees("照片收到了") == "照片收到了，已经放进第 1 号建议。"
        await post_photo(bot.url, ZHANG, picture(800, 600, "png"), "1号")
        assert await zhang.sees("已经有了") == "这张照片第 1 号建议里已经有了。"
        green = picture(640, 640, "webp", (10, 200, 10))
        await post_photo(bot.url, ZHANG, green, "第 1 号 水渠口")
        await zhang.sees("照片收到了")
        await post_photo(bot.url, ZHANG, picture(640, 640, "gif"), "第9号")
        assert "没找到第 9 号建议" in await zhang.sees("没找到")

        kept = photos(bot.app[ENGINE])
        assert [(p.suggestion_id, p.content_type) for p in kept] == [
            (1, "image/png"), (1, "image/webp")]
        # The repeat and the picture for no suggestion left no files behind; each shown
        # picture stays in the room's history.
        on_disk = media_files(settings.audio_dir)
        assert {p.path for p in kept} | {p.thumb_path for p in kept} <= on_disk
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{bot.url}/api/rooms/{ROOM}/messages") as history:
                shown = [m["image_url"] for m in (await history.json())["messages"]
                         if m["image_url"]]
            assert len(shown) == 4  # the repeat and the one for no suggestion still show
            for url in shown:
                async with http.get(bot.url + url) as served:
                    assert served.status == 200


async def test_a_picture_alone_is_chat_but_during_a_night_talk_it_is_a_suggestion(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        await post_photo(bot.url, ZHANG, picture(400, 300), "今天天气真好")
        await zhang.say("在吗")  # the picture was handled before this is
        assert photos(bot.app[ENGINE]) == [] and suggestions(bot.app) == []

        with session(bot.app[ENGINE]) as db:
            now = utcnow()
            db.add(NightTalk(group_id=village_id(bot.app), topic="修路", starts_at=now,
                             ends_at=now + timedelta(hours=2), status=NightTalkStatus.OPEN,
                             opened_at=now))
            db.commit()
        await post_photo(bot.url, ZHANG, picture(300, 400))
        await zhang.sees("照片都记下了")
        [row] = suggestions(bot.app)
        assert row.text == "" and row.night_talk_id is not None
        [photo] = photos(bot.app[ENGINE])
        assert photo.suggestion_id == row.id
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (240, 320)


@pytest.mark.parametrize("data, filename, status, says", [
    (b"%PDF-1.4 not a picture at all" * 100, "IMG_0002.jpg", 415, "JPG、PNG、WebP 或 GIF"),
    (b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), "big.jpg", 413, "照片太大了"),
])
async def test_a_file_that_is_no_picture_or_too_big_is_refused_and_nothing_is_kept(
        settings: Settings, data: bytes, filename: str, status: int, says: str) -> None:
    async with running(settings, prepare_village) as bot:
        got, body = await post_photo(bot.url, ZHANG, data, "建议 看看这个", filename=filename)
        assert got == status
        assert says in body["error"]
        assert suggestions(bot.app) == [] and photos(bot.app[ENGINE]) == []
        assert media_files(settings.audio_dir) == set()


async def test_a_picture_only_a_broken_file_is_refused_in_the_chat_and_nothing_is_kept(
        settings: Settings) -> None:
    broken = picture(800, 600)[:400]  # a JPEG's start, cut off in the middle
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        await post_photo(bot.url, ZHANG, broken, "建议")
        assert await zhang.sees("打不开") == "这张照片打不开，可能没发完整。请再发一次。"
        # Only the upload itself, as the room shows it: no thumbnail was made of it.
        [shown] = media_files(settings.audio_dir)
        assert (settings.audio_dir / shown).read_bytes() == broken


async def test_a_members_photos_a_day_are_capped(settings: Settings) -> None:
    settings = replace(settings, photos_per_day=2)
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        await zhang.ask("建议 东头修个晒谷场")
        for shade in range(2):
            red = picture(500, 500, colour=(shade * 120, 0, 0))
            await post_photo(bot.url, ZHANG, red, "第1号")
            await zhang.sees("照片收到了")
        status, body = await post_photo(bot.url, ZHANG, picture(500, 500, colour=(9, 9, 9)),
                                        "第1号")
        assert status == 429
        assert body["error"] == "今天已经发了 2 张照片，明天再发吧。"
        assert len(photos(bot.app[ENGINE])) == 2
        status, _ = await post_photo(bot.url, LI, picture(500, 500, colour=(9, 9, 9)), "第1号")
        assert status == 201  # the cap is each member's own
        await eventually(lambda: len(photos(bot.app[ENGINE])) == 3)


async def test_a_photo_upload_on_a_full_disk_is_refused_and_leaves_no_partial_file(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot:
        with disk_fills_at(4096):
            status, body = await post_photo(bot.url, ZHANG, picture(1200, 900, "png"),
                                            "建议 看看这里")
        assert (status, body) == (507, {"error": "照片没能存下来，请过一会儿再发一次。"})
        assert media_files(settings.audio_dir) == set()  # no truncated picture, no scratch file
        assert suggestions(bot.app) == [] and photos(bot.app[ENGINE]) == []
        status, _ = await post_photo(bot.url, ZHANG, picture(1200, 900, "png"), "建议 看看这里")
        assert status == 201  # sent again: kept whole
        await eventually(lambda: len(photos(bot.app[ENGINE])) == 1)


async def test_the_nightly_sweep_deletes_old_chat_pictures_but_keeps_suggestions_photos(
        settings: Settings) -> None:
    async with running(replace(settings, webchat_voice_days=90), prepare_village) as bot:
        _, chatter = await post_photo(bot.url, ZHANG, picture(400, 300), "看看我家的菜园")
        _, raised = await post_photo(bot.url, LI, picture(500, 300), "建议 修一修村口的路")
        await eventually(lambda: len(photos(bot.app[ENGINE])) == 1)
        with session(bot.app[ENGINE]) as db:  # both sent a hundred days ago
            for message in (chatter, raised):
                row = db.get(ChatMessage, message["message"]["id"])
                assert row is not None
                row.created_at = utcnow() - timedelta(days=100)
                db.add(row)
            db.commit()
        [photo] = photos(bot.app[ENGINE])

        sweep_at = utcnow() + timedelta(days=1)
        bot.app[SERVICES].clock = lambda: sweep_at
        await bot.app[SCHEDULER].fire_timers(sweep_at)
        assert media_files(settings.audio_dir) == {photo.path, photo.thumb_path}
        async with aiohttp.ClientSession() as http, \
                http.get(f"{bot.url}/api/rooms/{ROOM}/messages") as response:
            history = {m["text"]: m for m in (await response.json())["messages"]}
        assert history["看看我家的菜园"]["image_url"] is None  # its words stay, no broken picture
        assert history["建议 修一修村口的路"]["image_url"] == f"/media/{photo.path}"


async def test_a_photo_sent_with_done_is_the_done_photo(settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang, \
            joined(bot.url, SECRETARY) as secretary:
        assert "第 1 号" in await zhang.ask("建议 村口路灯坏了")
        await secretary.say("/采纳 1 下周修")
        await secretary.sees("采纳")
        status, _ = await post_photo(bot.url, SECRETARY, picture(900, 600), "/办结 1 路灯修好了")
        assert status == 201
        assert await secretary.sees("办结照片") == "办结照片收到了，已经放进第 1 号建议。"
        [row] = suggestions(bot.app)
        assert row.status == SuggestionStatus.DONE and row.reply == "路灯修好了"
        [photo] = photos(bot.app[ENGINE])
        assert (photo.suggestion_id, photo.kind, photo.uploader_name) == (
            1, PhotoKind.DONE, "王书记")
