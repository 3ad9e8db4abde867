"""Pictures from QQ through the real app and the fake NapCat: the segment's URL or get_image."""

from __future__ import annotations

from bot.app import ENGINE
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, ZHANG, prepare_qq_groups, said, stored, with_onebot
from tests.support.photos import media_files, photos, picture, thumbnail_size
from tests.support.polling import eventually


async def test_a_picture_with_its_suggestion_is_downloaded_kept_and_thumbnailed(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        image = napcat.image_segment(picture(1000, 1000, "png"))
        event = napcat.group_message(GROUP, ZHANG, [*said("建议 祠堂的屋顶漏雨了"), image])
        assert (await napcat.post_event(bot.url, event))[0] == 204
        answer = await eventually(lambda: [s for s in napcat.answered(GROUP) + napcat.to_user(
            ZHANG) if "照片" in s.text])
        assert "第 1 号" in answer[0].text
        [row] = stored(bot.app)
        assert row.text == "祠堂的屋顶漏雨了"
        [photo] = photos(bot.app[ENGINE])
        assert (photo.suggestion_id, photo.content_type, photo.width) == (1, "image/png", 1000)
        assert thumbnail_size(settings.audio_dir / photo.thumb_path) == (320, 320)
        assert not [c for c in napcat.calls if c[0] == "get_image"]  # the URL sufficed


async def test_an_expired_picture_url_falls_back_to_get_image(
        settings: Settings, napcat: FakeNapCat) -> None:
    napcat.cdn_down = True
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        raised = napcat.group_message(GROUP, ZHANG, said("建议 路口装个反光镜"))
        await napcat.post_event(bot.url, raised)
        await eventually(lambda: stored(bot.app))
        image = napcat.image_segment(picture(600, 400))
        event = napcat.group_message(GROUP, ZHANG, [*said("第1号"), image])
        await napcat.post_event(bot.url, event)
        await eventually(lambda: photos(bot.app[ENGINE]))
        assert [c[1] for c in napcat.calls if c[0] == "get_image"] == [
            {"file": image["data"]["file"]}]
        [photo] = photos(bot.app[ENGINE])
        assert (settings.audio_dir / photo.path).read_bytes() == napcat.images[
            image["data"]["file"]]


async def test_a_file_that_is_no_picture_is_refused_with_a_message(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        image = napcat.image_segment(b"MZ\x90\x00 an executable, named like a picture" * 50,
                                     name="ABCDEF.jpg")
        event = napcat.group_message(GROUP, ZHANG, [*said("建议 看看"), image])
        await napcat.post_event(bot.url, event)
        answer = await eventually(lambda: [s for s in napcat.answered(GROUP) + napcat.to_user(
            ZHANG) if "照片没收下" in s.text or "JPG、PNG" in s.text])
        assert "JPG、PNG、WebP 或 GIF" in answer[0].text
        assert photos(bot.app[ENGINE]) == [] and media_files(settings.audio_dir) == set()
