"""Photos in headless Chromium: the camera button on a phone, the picture in the bubble, and
the thumbnail in the console opening the full picture."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, FilePayload, Page, expect

from bot.app import ENGINE
from bot.settings import Settings
from tests.support.app import running
from tests.support.browser import join_room
from tests.support.console_village import PASSWORD, SECRETARY_LOGIN, prepare_console
from tests.support.photos import photos, picture

SUGGESTION_TAKEN = "照片都记下了"


async def phone(chromium: Browser) -> BrowserContext:
    """A phone's screen, 360 px wide, touched rather than clicked."""
    return await chromium.new_context(viewport={"width": 360, "height": 740},
                                      device_scale_factor=2, is_mobile=True, has_touch=True)


async def sign_in(page: Page, url: str) -> None:
    """The secretary signs in to the console's suggestion board."""
    await page.goto(url + "/admin/suggestions")
    await page.locator("input[name=username]").fill(SECRETARY_LOGIN[0])
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").last.click()
    await expect(page.get_by_test_id("board-total")).to_be_visible()


def upload(name: str, mime: str, data: bytes) -> list[FilePayload]:
    """A file as the phone's camera or album hands it to the page."""
    return [{"name": name, "mimeType": mime, "buffer": data}]


async def test_the_camera_button_sends_a_picture_with_the_typed_suggestion_on_a_phone(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_console) as bot:
        room = await (await phone(chromium)).new_page()
        await join_room(room, bot.url + "/room/village", "张大爷")

        camera = room.get_by_test_id("photo-button")
        await expect(camera).to_have_text("拍照")
        box = await camera.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["width"] >= 44 and box["height"] >= 44  # big enough for a thumb
        chooser = room.get_by_test_id("photo-input")
        assert await chooser.get_attribute("accept") == "image/*"
        assert await chooser.get_attribute("capture") == "environment"  # the camera opens

        await room.get_by_test_id("message-box").fill("建议 村口路灯坏了")
        await chooser.set_input_files(files=upload("IMG_2041.jpg", "image/jpeg",
                                                   picture(1200, 900)))
        bubble = room.get_by_test_id("message").filter(has=room.get_by_test_id("message-photo"))
        await expect(bubble).to_have_count(1)
        await expect(bubble).to_contain_text("建议 村口路灯坏了")
        shown = bubble.get_by_test_id("message-photo")
        await expect(shown).to_have_js_property("complete", True)
        assert await shown.evaluate("img => img.naturalWidth") == 1200
        width = await shown.evaluate("img => img.getBoundingClientRect().right")
        assert width <= 360  # the picture fits the phone's screen
        await expect(room.get_by_test_id("message").filter(has_text=SUGGESTION_TAKEN)
                     ).to_be_visible()
        await expect(room.get_by_test_id("message-box")).to_have_value("")
        assert len(photos(bot.app[ENGINE])) == 1


async def test_a_file_that_is_no_picture_is_refused_in_plain_words(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_console) as bot:
        room = await (await phone(chromium)).new_page()
        await join_room(room, bot.url + "/room/village", "李婶")
        await room.get_by_test_id("photo-input").set_input_files(
            files=upload("photo.jpg", "image/jpeg", b"<html>not a photo</html>"))
        await expect(room.get_by_test_id("error")).to_contain_text("JPG、PNG、WebP 或 GIF")
        await expect(room.get_by_test_id("message-photo")).to_have_count(0)


async def test_the_console_shows_a_suggestions_thumbnail_opening_the_full_picture(
        settings: Settings, chromium: Browser) -> None:
    async with running(settings, prepare_console) as bot:
        context = await chromium.new_context()
        room = await context.new_page()
        await join_room(room, bot.url + "/room/village", "张大爷")
        await room.get_by_test_id("message-box").fill("建议 东头的桥栏杆松了")
        await room.get_by_test_id("photo-input").set_input_files(
            files=upload("bridge.png", "image/png", picture(640, 960, "png")))
        await expect(room.get_by_test_id("message").filter(has_text=SUGGESTION_TAKEN)
                     ).to_be_visible()

        console = await context.new_page()
        await sign_in(console, bot.url)
        row = console.get_by_test_id("suggestion-row").first
        await expect(row.get_by_test_id("photo-tag")).to_have_text("照片")  # on the board too
        await row.get_by_test_id("suggestion-link").click()
        thumb = console.get_by_test_id("photo-thumb")
        await expect(thumb).to_have_count(1)
        await expect(thumb).to_have_js_property("complete", True)
        size = await thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert size == [213, 320]  # the thumbnail, not the whole picture
        [photo] = photos(bot.app[ENGINE])
        async with context.expect_page() as opened:
            await console.get_by_test_id("photo-link").click()
        full = await opened.value
        await full.wait_for_load_state()
        assert full.url == f"{bot.url}/media/{photo.path}"
        assert await full.evaluate("document.images[0].naturalWidth") == 640
