"""Voice messages and 「听完了」 in a real headless Chromium recording from a fake microphone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import col, select

from bot.app import ENGINE, OUTBOX, WEBCHAT
from bot.core.db import session
from bot.core.messages import OutgoingText
from bot.core.models import ChatMessage, Group, LessonRecord, Suggestion
from bot.domain.nighttalks import NightTalkHost, schedule_night_talk
from bot.settings import Settings
from lessons.audio import probe
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp, running
from tests.support.browser import CHROMIUM_ARGS, join_room, launch_chromium

ROOM = "fengshu"
START = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
FAKE_MICROPHONE = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*CHROMIUM_ARGS, *FAKE_MICROPHONE]) as browser:
        yield browser


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[RunningApp]:
    async with running(settings) as bot:
        with session(bot.app[ENGINE]) as db:
            db.add(Group(platform="web", chat_id=ROOM, name="枫树屋场"))
            db.add(LessonRecord(slug="fangzha", title="防诈骗，记住三不要"))
        yield bot


async def enter(browser: Browser, bot: RunningApp, name: str) -> Page:
    page = await browser.new_page()
    await join_room(page, f"{bot.url}/room/{ROOM}", name)
    return page


def voice_rows(bot: RunningApp) -> list[ChatMessage]:
    with session(bot.app[ENGINE]) as db:
        query = select(ChatMessage).where(col(ChatMessage.audio_url).is_not(None))
        return list(db.exec(query))


async def test_holding_the_button_records_a_voice_message_everyone_can_play(
        browser: Browser, bot: RunningApp) -> None:
    page = await enter(browser, bot, "张大爷")
    neighbour = await enter(browser, bot, "李婶")
    button = page.get_by_test_id("record-button")
    await expect(button).to_have_text("按住说话")
    box = await button.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await expect(page.get_by_test_id("recording-bar")).to_be_visible()
    await expect(button).to_have_text("松开发送")
    await expect(page.get_by_test_id("recording-seconds")).to_have_text("0:02", timeout=10_000)
    await page.mouse.up()
    await expect(page.get_by_test_id("recording-bar")).to_be_hidden()

    for viewer in (page, neighbour):
        voice = viewer.get_by_test_id("message").filter(
            has=viewer.get_by_test_id("voice-audio"))
        await expect(voice).to_have_count(1, timeout=15_000)
        await expect(voice.get_by_test_id("play-button")).to_be_visible()
        await expect(voice).to_contain_text("张大爷" if viewer is neighbour else "我")
    src = await page.get_by_test_id("voice-audio").get_attribute("src")
    assert src and src.startswith("/media/")
    response = await page.request.get(bot.url + src)
    assert response.status == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert 1.5 < probe(await response.body()).duration_s < 4.0
    [row] = voice_rows(bot)
    assert row.sender_name == "张大爷" and row.audio_url == src

    await neighbour.get_by_test_id("play-button").click()
    await expect(neighbour.get_by_test_id("play-button")).to_have_attribute("aria-label", "暂停")


async def test_a_tap_starts_recording_and_a_second_tap_sends(
        browser: Browser, bot: RunningApp) -> None:
    page = await enter(browser, bot, "王奶奶")
    button = page.get_by_test_id("record-button")
    await button.click()
    await expect(page.get_by_test_id("recording-hint")).to_have_text("正在录音，说完点“发送”")
    await expect(button).to_have_text("发送")
    await expect(page.get_by_test_id("recording-seconds")).to_have_text("0:01", timeout=10_000)
    await button.click()
    await expect(page.get_by_test_id("voice-audio")).to_have_count(1, timeout=15_000)
    assert [row.sender_name for row in voice_rows(bot)] == ["王奶奶"]


async def test_a_voice_outside_a_talk_gets_a_button_that_makes_it_a_suggestion(
        browser: Browser, bot: RunningApp) -> None:
    page = await enter(browser, bot, "张大爷")
    neighbour = await enter(browser, bot, "李婶")
    button = page.get_by_test_id("record-button")
    await button.click()
    await expect(page.get_by_test_id("recording-seconds")).to_have_text("0:01", timeout=10_000)
    await button.click()
    ask = page.get_by_test_id("voice-ask-button")
    await expect(ask).to_have_text("是，记成建议", timeout=15_000)
    assert suggestions(bot) == []
    await ask.click()
    await expect(ask).to_be_disabled()
    await expect(page.get_by_test_id("message").filter(has_text="第 1 号")).to_be_visible(
        timeout=15_000)
    # The question is never hers to answer, and the number is his alone.
    await expect(neighbour.get_by_test_id("voice-ask-button")).to_be_hidden()
    await expect(neighbour.get_by_test_id("message").filter(has_text="第 1 号")).to_have_count(0)
    [row] = suggestions(bot)
    assert row.author_name == "张大爷" and row.voice_path is not None


def suggestions(bot: RunningApp) -> list[Suggestion]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(Suggestion)))


async def test_sliding_off_the_button_cancels_and_sends_nothing(
        browser: Browser, bot: RunningApp) -> None:
    page = await enter(browser, bot, "张大爷")
    box = await page.get_by_test_id("record-button").bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await expect(page.get_by_test_id("recording-seconds")).to_have_text("0:01", timeout=10_000)
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 200, steps=5)
    await expect(page.get_by_test_id("recording-hint")).to_have_text("松开手指，取消发送")
    await page.mouse.up()
    await expect(page.get_by_test_id("error")).to_have_text("已取消，这段没有发出去。")
    await page.get_by_test_id("message-box").fill("刚才那段不要了")
    await page.get_by_test_id("send-button").click()
    await expect(page.get_by_test_id("message").filter(has_text="刚才那段不要了")).to_be_visible()
    assert voice_rows(bot) == []
    await expect(page.get_by_test_id("voice-audio")).to_have_count(0)


async def test_pressing_listened_under_a_lesson_says_so_in_the_group(
        browser: Browser, bot: RunningApp) -> None:
    page = await enter(browser, bot, "张大爷")
    webchat = bot.app[WEBCHAT]
    await webchat.send(ROOM, OutgoingText("【微党课】防诈骗，记住三不要\n\n陌生电话不要信。",
                                          lesson_slug="fangzha"))
    lesson = page.get_by_test_id("message").filter(has_text="陌生电话不要信")
    listened = lesson.get_by_test_id("listened-button")
    await expect(listened).to_have_text("听完了")
    await listened.click()
    said = page.get_by_test_id("message").filter(has_text="听完了").filter(
        has_not=page.get_by_test_id("listened-button"))
    await expect(said).to_be_visible()
    await expect(said).to_contain_text("我")
    await expect(listened).to_have_text("已听")
    await expect(listened).to_be_disabled()
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot).is_(False)))
        texts = [row.text for row in rows]
    assert texts == ["听完了"]

    await page.reload()
    await expect(page.get_by_test_id("listened-button")).to_have_text("已听")
    await expect(page.get_by_test_id("listened-button")).to_be_disabled()


async def test_a_refused_microphone_gets_a_clear_chinese_message(bot: RunningApp) -> None:
    async with launch_chromium([*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
                       "--deny-permission-prompts"]) as browser:
        page = await enter(browser, bot, "张大爷")
        await page.get_by_test_id("record-button").click()
        await expect(page.get_by_test_id("error")).to_have_text(
            "手机没让用话筒。请在浏览器的设置里允许这个网页用话筒，再按住说话。")
        await expect(page.get_by_test_id("recording-bar")).to_be_hidden()
        assert voice_rows(bot) == []


async def test_a_recording_sends_itself_after_two_minutes(
        browser: Browser, bot: RunningApp) -> None:
    page = await browser.new_page()
    # The page's two minutes pass on a paused fake clock, moved on by hand.
    await page.clock.install(time=START)
    await page.clock.pause_at(START + timedelta(seconds=1))
    await join_room(page, f"{bot.url}/room/{ROOM}", "张大爷")
    await page.get_by_test_id("record-button").click()
    await expect(page.get_by_test_id("recording-hint")).to_have_text("正在录音，说完点“发送”")
    await page.wait_for_timeout(1000)  # the fake microphone's real sound, not a page timer
    await page.clock.run_for(111_000)
    await expect(page.get_by_test_id("recording-seconds")).to_have_text("1:51")
    await expect(page.get_by_test_id("recording-hint")).to_have_text("还能说 9 秒")
    await page.clock.run_for(10_000)
    await expect(page.get_by_test_id("recording-bar")).to_be_hidden()
    await expect(page.get_by_test_id("voice-audio")).to_have_count(1, timeout=15_000)
    assert len(voice_rows(bot)) == 1


async def test_a_voice_recorded_during_a_night_talk_is_a_suggestion_in_its_summary(
        browser: Browser, bot: RunningApp) -> None:
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
        talk = schedule_night_talk(db, group=group, topic="修村口的路",
                                   starts_at=utcnow() + timedelta(hours=1))
        talk_id = talk.id
    assert talk_id is not None
    host = NightTalkHost(bot.app[ENGINE], bot.app[OUTBOX])
    await host.open(talk_id)
    page = await enter(browser, bot, "张大爷")
    button = page.get_by_test_id("record-button")
    await button.click()
    await expect(page.get_by_test_id("recording-seconds")).to_have_text("0:02", timeout=10_000)
    await button.click()

    answer = page.get_by_test_id("message").filter(has_text="收到您的语音建议")
    await expect(answer).to_be_visible(timeout=15_000)
    await expect(answer.get_by_test_id("quote")).to_have_text("张大爷：[语音]")
    with session(bot.app[ENGINE]) as db:
        [suggestion] = db.exec(select(Suggestion)).all()
    assert suggestion.author_name == "张大爷" and suggestion.voice_path
    src = await page.get_by_test_id("voice-audio").get_attribute("src")
    assert src and suggestion.voice_path.endswith(src.rsplit("/", 1)[1])
    response = await page.request.get(bot.url + src)
    assert response.headers["content-type"] == "audio/mpeg"

    await host.close(talk_id)
    summary = page.get_by_test_id("message").filter(has_text="修村口的路").last
    await expect(summary).to_contain_text("语音")  # listed as the voice suggestion it is
    await expect(summary).to_contain_text("张大爷")
