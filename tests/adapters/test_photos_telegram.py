"""Photos on Telegram through the real app and the fake Bot API: getFile, the largest size."""

from __future__ import annotations

from dataclasses import replace

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import PhotoKind, Suggestion
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.telegram import FakeTelegram
from tests.support.photos import media_files, photos, picture, thumbnail_size
from tests.support.polling import eventually
from tests.support.telegram import LI, VILLAGE, ZHANG, answer_to, groups, on_telegram, stored


def sizes(width: int, height: int, colour: tuple[int, int, int] = (200, 60, 40)
          ) -> list[tuple[int, int, bytes]]:
    """The sizes Telegram makes of one photo, smallest first."""
    return [(w, h, picture(w, h, colour=colour))
            for w, h in ((90, width * 90 // height), (320, 240), (width, height))]


async def test_a_photo_with_its_suggestion_is_kept_at_its_largest_size(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        said = telegram.say_photo(VILLAGE, ZHANG, sizes(1280, 960), "建议 村口路灯坏了")
        answer = await answer_to(telegram, said, "第 1 号")
        assert "照片" in answer.text
        [row] = stored(bot.app)
        assert row.text == "村口路灯坏了"
        [photo] = photos(bot.app[ENGINE])
        assert (photo.suggestion_id, photo.width, photo.height) == (row.id, 1280, 960)
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (320, 240)
        largest = said["message"]["photo"][-1]["file_id"]
        assert [c["file_id"] for c in telegram.called("getFile")] == [largest]
        assert (settings.audio_dir / photo.path).read_bytes() == telegram.files[largest]


async def test_a_photo_replying_to_a_suggestion_joins_it_and_the_handlers_is_a_done_photo(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        raised = telegram.say(VILLAGE, ZHANG, "建议 东头的水渠该清一清了")
        await answer_to(telegram, raised, "第 1 号")
        with session(bot.app[ENGINE]) as db:
            row = db.get(Suggestion, 1)
            assert row is not None
            row.handler_user_id = str(LI["id"])
            db.add(row)
            db.commit()
        more = telegram.say_photo(VILLAGE, ZHANG, sizes(800, 600, (90, 90, 10)),
                                  reply_to=raised["message"]["message_id"])
        assert "放进第 1 号" in (await answer_to(telegram, more)).text
        done = telegram.say_photo(VILLAGE, LI, sizes(800, 600, (10, 90, 90)), "第1号")
        assert "办结照片" in (await answer_to(telegram, done)).text
        kept = photos(bot.app[ENGINE])
        assert [(p.suggestion_id, p.kind, p.uploader_name) for p in kept] == [
            (1, PhotoKind.RAISED, "张大爷"), (1, PhotoKind.DONE, "李婶")]


async def test_a_photo_replying_to_the_bots_answer_joins_the_suggestion_it_names(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        for text in ("建议 修一修晒谷场", "建议 东头装个路灯"):
            raised = telegram.say(VILLAGE, ZHANG, text)
            answer = await answer_to(telegram, raised, "号")
        assert "第 2 号" in answer.text
        shot = telegram.say_photo(VILLAGE, LI, sizes(800, 600), reply_to=answer.message_id)
        assert shot["message"]["reply_to_message"]["from"]["is_bot"]
        assert "放进第 2 号" in (await answer_to(telegram, shot)).text
        [photo] = photos(bot.app[ENGINE])
        assert (photo.suggestion_id, photo.uploader_name) == (2, "李婶")


async def test_a_lone_photo_is_chat_and_the_daily_cap_is_told(
        settings: Settings, telegram: FakeTelegram) -> None:
    settings = replace(settings, photos_per_day=1)
    async with running(on_telegram(settings, telegram), groups()) as bot:
        telegram.say_photo(VILLAGE, ZHANG, sizes(640, 480), "看看我家的狗")
        await eventually(lambda: telegram.called("getFile"))
        raised = telegram.say(VILLAGE, ZHANG, "建议 修一修晒谷场")
        await answer_to(telegram, raised, "第 1 号")
        assert photos(bot.app[ENGINE]) == []
        assert media_files(settings.audio_dir) == set()  # the dog's picture was not kept

        first = telegram.say_photo(VILLAGE, ZHANG, sizes(640, 480, (1, 100, 1)), "第1号")
        await answer_to(telegram, first, "放进第 1 号")
        second = telegram.say_photo(VILLAGE, ZHANG, sizes(640, 480, (100, 1, 1)), "第1号")
        assert "明天再发" in (await answer_to(telegram, second)).text
        [photo] = photos(bot.app[ENGINE])
        assert media_files(settings.audio_dir) == {photo.path, photo.thumb_path}


async def test_a_photo_too_big_is_refused_unfetched_with_a_message(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        said = telegram.say_photo(VILLAGE, ZHANG, sizes(640, 480), "建议 看看这块地")
        said["message"]["photo"][-1]["file_size"] = 30 * 1024 * 1024  # as Telegram names it
        answer = await answer_to(telegram, said, "第 1 号")
        assert "照片太大了" in answer.text
        assert photos(bot.app[ENGINE]) == [] and not telegram.called("getFile")


async def test_an_album_with_its_caption_on_the_first_photo_is_one_suggestion_with_all(
        settings: Settings, telegram: FakeTelegram) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        first = telegram.say_photo(VILLAGE, ZHANG, sizes(800, 600, (200, 0, 0)),
                                   "建议 村口的桥要修", album="13622137123416301")
        for shade in (100, 250):
            telegram.say_photo(VILLAGE, ZHANG, sizes(800, 600, (0, shade, 0)),
                               album="13622137123416301")
        await answer_to(telegram, first, "第 1 号")
        await eventually(lambda: len(photos(bot.app[ENGINE])) == 3)
        assert [p.suggestion_id for p in photos(bot.app[ENGINE])] == [1, 1, 1]
        assert len(stored(bot.app)) == 1
