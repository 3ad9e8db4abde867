"""A scheduled lesson reaches the web chat as text and voice, through the real app."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.app import ENGINE, LIBRARY, POSTER, SCHEDULER, VOICE
from bot.core.db import session
from bot.core.models import ChatMessage, Group
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import running
from tests.support.fake_edge import FakeEdge, closed_port_url
from tests.support.polling import eventually

ESPEAK = shutil.which("espeak-ng")


def _room_messages(app: object, chat_id: str = "demo") -> list[ChatMessage]:
    with session(app[ENGINE]) as db:  # type: ignore[index]
        group = db.exec(select(Group).where(Group.chat_id == chat_id)).one()
        return list(db.exec(select(ChatMessage).where(ChatMessage.group_id == group.id)
                            .order_by(ChatMessage.id)).all())


def _deliveries(app: object) -> list[Delivery]:
    with session(app[ENGINE]) as db:  # type: ignore[index]
        return list(db.exec(select(Delivery).order_by(Delivery.id)).all())


async def _recorded(app: object, done: Callable[[Delivery], bool]) -> list[Delivery]:
    """The deliveries once `done` holds for one: the ledger follows the room's messages."""
    return await eventually(lambda: [d for d in _deliveries(app) if done(d)])


async def test_first_start_creates_the_demo_room_and_its_lesson_arrives_with_voice(
    settings: Settings, fake_edge: FakeEdge
) -> None:
    settings = replace(settings, demo=True, demo_delay=1)
    async with running(settings) as bot:
        messages = await eventually(lambda: [m for m in _room_messages(bot.app) if m.audio_url])
        history = _room_messages(bot.app)
        text, audio = history[0], history[1]
        assert text.from_bot and "微党课" in text.text and text.audio_url is None
        assert audio.audio_url == messages[0].audio_url and audio.audio_duration
        async with aiohttp.ClientSession() as http, http.get(bot.url + audio.audio_url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "audio/mpeg"
            body = await resp.read()
        assert len(body) > 6000  # more than a second of edge-tts audio
        [delivery] = await _recorded(bot.app, lambda d: d.status == DeliveryStatus.SENT)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.speech_engine == "edge-tts"
        assert fake_edge.requests, "the voice came from the speech service"


async def test_a_second_start_creates_no_second_demo_and_posts_nothing_twice(
    settings: Settings
) -> None:
    settings = replace(settings, demo=True, demo_delay=1)
    async with running(settings) as bot:
        await eventually(lambda: [m for m in _room_messages(bot.app) if m.audio_url])
        before = len(_room_messages(bot.app))
    async with running(settings) as bot:
        await bot.app[SCHEDULER].run_due()
        with session(bot.app[ENGINE]) as db:
            assert len(db.exec(select(Group)).all()) == 1
        assert len(_room_messages(bot.app)) == before
        assert len(_deliveries(bot.app)) == 1


async def test_speech_service_down_falls_back_to_espeak_and_says_so_in_the_record(
    settings: Settings
) -> None:
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    settings = replace(settings, demo=True, demo_delay=1, tts_endpoint=closed_port_url(),
                       espeak=True)
    async with running(settings) as bot:
        await eventually(lambda: [m for m in _room_messages(bot.app) if m.audio_url], 30)
        [delivery] = await _recorded(bot.app, lambda d: d.status == DeliveryStatus.SENT)
        assert delivery.speech_engine == "espeak-ng"
        assert not delivery.audio_pending


async def test_without_any_voice_the_text_goes_out_with_a_notice_and_the_voice_follows(
    settings: Settings, fake_edge: FakeEdge
) -> None:
    fake_edge.set_mode("no_audio")  # the service answers, but with no audio, until it recovers
    settings = replace(settings, demo=True, demo_delay=1)

    def quick_retries(app: object) -> None:
        app[POSTER].audio_retry_delays = (0.2, 0.2, 0.2, 0.2, 0.2)  # type: ignore[index]

    async with running(settings, quick_retries) as bot:
        await eventually(lambda: len(_room_messages(bot.app)) >= 2)
        first = _room_messages(bot.app)
        assert "语音稍后" in first[1].text and first[1].audio_url is None
        [delivery] = await _recorded(bot.app, lambda d: d.status == DeliveryStatus.SENT)
        assert delivery.status == DeliveryStatus.SENT and delivery.audio_pending
        fake_edge.set_mode("ok")
        await eventually(lambda: [m for m in _room_messages(bot.app) if m.audio_url])
        [delivery] = await _recorded(bot.app, lambda d: not d.audio_pending)
        assert not delivery.audio_pending and delivery.audio_message_id
        assert len([m for m in _room_messages(bot.app) if "微党课" in m.text]) == 1


async def test_a_broken_lesson_file_is_named_and_the_other_lessons_still_post(
    settings: Settings, lessons_copy: Path
) -> None:
    broken = lessons_copy / "broken.md"
    broken.write_text("---\ntitle: 坏了\nspeaker: 某人\ndate: 2026-13-45\ntags: [x]\n"
                      "summary: s\n---\n乡亲们好！\n", encoding="utf-8")
    settings = replace(settings, lessons_dir=lessons_copy, demo=True, demo_delay=1)
    async with running(settings) as bot:
        library = bot.app[LIBRARY]
        [problem] = library.problems
        assert problem.path == broken and problem.line == 4
        assert len(library.lessons) >= 6
        await eventually(lambda: [m for m in _room_messages(bot.app) if m.audio_url])


async def test_one_lesson_to_many_groups_is_synthesized_once(
    settings: Settings, fake_edge: FakeEdge
) -> None:
    async with running(settings) as bot:
        engine = bot.app[ENGINE]
        with session(engine) as db:
            groups = [Group(platform="web", chat_id=f"g{i}", name=f"第{i}组") for i in range(5)]
            db.add_all(groups)
            db.flush()
            add_schedule(db, "ebike-charging", [(g.id or 0, g.timezone) for g in groups],
                         run_at=utcnow() + timedelta(seconds=1))
        await bot.app[SCHEDULER].rearm()
        await eventually(lambda: len([d for d in _deliveries(bot.app)
                                      if d.status == DeliveryStatus.SENT]) == 5)
        pieces = {r.text for r in fake_edge.requests}
        assert len(fake_edge.requests) == len(pieces), "each piece of speech requested once"
        for i in range(5):
            text, audio = _room_messages(bot.app, f"g{i}")
            assert text.text.startswith("【微党课】") and audio.audio_url  # text first, then voice


async def test_a_lesson_voiced_ahead_for_each_profile_posts_without_new_speech_requests(
    settings: Settings, fake_edge: FakeEdge
) -> None:
    async with running(settings) as bot:
        with session(bot.app[ENGINE]) as db:
            groups = [Group(platform="web", chat_id=f"g{i}", name=f"第{i}组",
                            speech_profile=("普通话", "湘", "粤")[i % 3]) for i in range(6)]
            db.add_all(groups)
            db.flush()
            targets = [(g.id or 0, g.timezone) for g in groups]

        await bot.app[VOICE].prerender("ebike-charging")

        # One voice per profile in use (湘 shares 普通话's voice but not its wording).
        assert len(list(settings.audio_dir.glob("*.srt"))) == 3
        asked = len(fake_edge.requests)
        with session(bot.app[ENGINE]) as db:
            add_schedule(db, "ebike-charging", targets, run_at=utcnow() + timedelta(seconds=1))
        await bot.app[SCHEDULER].rearm()
        await eventually(lambda: len([d for d in _deliveries(bot.app)
                                      if d.status == DeliveryStatus.SENT]) == 6)
        assert len(fake_edge.requests) == asked, "every voice was ready before its post"
        assert all(_room_messages(bot.app, f"g{i}")[1].audio_url for i in range(6))


async def test_a_hunan_group_hears_hunan_wording_while_the_posted_text_stays_standard(
    settings: Settings, fake_edge: FakeEdge
) -> None:
    async with running(settings) as bot:
        with session(bot.app[ENGINE]) as db:
            group = Group(platform="web", chat_id="fengshu", name="枫树屋场", speech_profile="湘")
            db.add(group)
            db.flush()
            add_schedule(db, "village-rules", [(group.id or 0, group.timezone)],
                         run_at=utcnow() + timedelta(seconds=1))
        await bot.app[SCHEDULER].rearm()
        await eventually(lambda: [m for m in _room_messages(bot.app, "fengshu") if m.audio_url])
        text, audio = _room_messages(bot.app, "fengshu")
        said = "".join(r.text for r in fake_edge.requests)
        assert "今天就讲到这里，谢谢大家！" in text.text and "今天就讲到这里" not in said
        assert "今日就讲到这里，谢谢大家！" in said
        # The opening names 移风易俗, an official formulation: it is read exactly as posted.
        assert "今天这堂微党课，跟大家讲讲移风易俗，说说红白喜事怎么办。" in said
        assert "村规民约" in said  # official terms untouched
        assert {r.voice for r in fake_edge.requests} == {
            "Microsoft Server Speech Text to Speech Voice (zh-CN, YunyangNeural)"}
        assert audio.subtitle_url
        async with aiohttp.ClientSession() as http, http.get(bot.url + audio.subtitle_url) as r:
            srt = await r.text()
        assert r.status == 200 and " --> " in srt and "今日就讲到这里" in srt


async def test_numbers_are_spoken_as_words(settings: Settings, fake_edge: FakeEdge,
                                           lessons_copy: Path) -> None:
    (lessons_copy / "hotline.md").write_text(
        "---\ntitle: 记住反诈热线\nspeaker: 民警\ndate: 2026-05-01\ntags: [反诈]\n"
        "summary: 热线\n---\n乡亲们好！接到可疑电话，请拨打96110咨询。\n", encoding="utf-8")
    settings = replace(settings, lessons_dir=lessons_copy)
    async with running(settings) as bot:
        with session(bot.app[ENGINE]) as db:
            group = Group(platform="web", chat_id="g", name="组")
            db.add(group)
            db.flush()
            add_schedule(db, "hotline", [(group.id or 0, group.timezone)],
                         run_at=utcnow() + timedelta(seconds=1))
        await bot.app[SCHEDULER].rearm()
        await eventually(lambda: [m for m in _room_messages(bot.app, "g") if m.audio_url])
        said = "".join(r.text for r in fake_edge.requests)
        assert "九六幺幺零" in said and "96110" not in said
        assert "96110" in _room_messages(bot.app, "g")[0].text


async def test_a_post_interrupted_after_its_text_resends_only_the_voice(
    settings: Settings, fake_edge: FakeEdge
) -> None:
    async with running(settings) as bot:
        with session(bot.app[ENGINE]) as db:
            group = Group(platform="web", chat_id="g", name="组")
            db.add(group)
            db.flush()
            # The text went out and was recorded, then the bot was killed before the voice.
            row = Delivery(lesson_slug="telecom-fraud", group_id=group.id or 0,
                           occurrence=utcnow(), text_message_id="earlier-text")
            db.add(row)
            db.flush()
            delivery_id = row.id or 0
        await bot.app[POSTER].post(delivery_id)
        [voice] = _room_messages(bot.app, "g")
        assert voice.audio_url and "微党课" not in voice.text
        [delivery] = _deliveries(bot.app)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.text_message_id == "earlier-text" and delivery.audio_message_id
