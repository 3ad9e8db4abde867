"""A speaker's recording uploaded in the console goes out on every platform in its format."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import ChatMessage, Group, LessonRecording, Role
from bot.settings import Settings
from lessons.audio import loudness, probe
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import RunningApp, running
from tests.support.console import Visitor, add_account, visitor
from tests.support.fake_edge import FakeEdge
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.telegram import FakeTelegram
from tests.support.fakes.wecom import FakeWeCom, ManualClock, amr_seconds, start_fake_wecom
from tests.support.onebot import GROUP, with_onebot
from tests.support.polling import eventually
from tests.support.recordings import recording, spoken_paragraphs
from tests.support.telegram import VILLAGE, on_telegram, quick

SLUG = "ebike-charging"  # six paragraphs
KEY = "8a2f6c1e-3b4d-4f5a-9c7e-fengshu"
WECOM_CHAT = "wrkSFfCgAAfengshu"
ROOM = "fengshu"
SPOKEN = [12.0, 10.0, 16.0, 12.0, 6.0, 4.0]
GAP = 1.5
TOTAL = sum(SPOKEN) + GAP * 5  # 67.5 s: two WeCom clips
BOUNDARY = "yehua-recording-boundary"


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeCom]:
    async with start_fake_wecom([KEY], clock=ManualClock()) as fake:
        yield fake


@pytest.fixture
def everywhere(settings: Settings, telegram: FakeTelegram, napcat: FakeNapCat,
               fake_wecom: FakeWeCom) -> Settings:
    extra = {**on_telegram(settings, telegram).extra, **with_onebot(settings, napcat).extra,
             "YEHUA_WECOM_ROBOTS": f"{WECOM_CHAT}:{KEY}",
             "YEHUA_WECOM_API_BASE": fake_wecom.url}
    return replace(settings, extra=extra)


def village_groups(app: web.Application) -> None:
    with session(app[ENGINE]) as db:
        for platform, chat_id in (("telegram", str(VILLAGE)), ("onebot", str(GROUP)),
                                  ("wecom", WECOM_CHAT), ("web", ROOM)):
            db.add(Group(platform=platform, chat_id=chat_id, name=f"枫树村{platform}群"))
    quick(app)


async def upload(guest: Visitor, audio: bytes, name: str, *, from_script: bool = False,
                 token: str | None = None) -> aiohttp.ClientResponse:
    """Send a recording as the lesson page's form (or its recorder script) does."""
    token = token if token is not None else await guest.token(f"/admin/lessons/{SLUG}")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("audio", io.BytesIO(audio), filename=name, content_type="audio/mp4")
    headers = {"Accept": "application/json", "X-CSRF-Token": token} if from_script else {}
    response = await guest.http.post(f"{guest.url}/admin/lessons/{SLUG}/recording", data=form,
                                     headers=headers, allow_redirects=False)
    await response.read()
    return response


async def post_everywhere(bot: RunningApp) -> list[Delivery]:
    with session(bot.app[ENGINE]) as db:
        groups = list(db.exec(select(Group)))
        add_schedule(db, SLUG, [(g.id or 0, g.timezone) for g in groups],
                     run_at=utcnow() + timedelta(seconds=1))
    await bot.app[SCHEDULER].rearm()

    def sent() -> list[Delivery] | None:
        with session(bot.app[ENGINE]) as db:
            rows = list(db.exec(select(Delivery)))
        return rows if len(rows) == 4 and all(
            d.status == DeliveryStatus.SENT for d in rows) else None

    return await eventually(sent, 90)


async def web_voice_seconds(bot: RunningApp) -> float:
    with session(bot.app[ENGINE]) as db:
        [url] = db.exec(select(ChatMessage.audio_url).where(
            col(ChatMessage.audio_url).is_not(None))).all()
    assert url is not None
    async with aiohttp.ClientSession() as http, http.get(bot.url + url) as response:
        assert response.status == 200
        info = probe(await response.read())
    assert info.codec == "mp3"
    return info.duration_s


@pytest.mark.parametrize("browser", [False, True], ids=["uploaded-m4a", "browser-webm"])
async def test_the_speakers_recording_goes_out_on_every_platform_in_its_format(
        everywhere: Settings, telegram: FakeTelegram, napcat: FakeNapCat,
        fake_wecom: FakeWeCom, fake_edge: FakeEdge, browser: bool) -> None:
    audio = spoken_paragraphs(SPOKEN, gap=GAP, container="webm", codec="libopus") if browser \
        else spoken_paragraphs(SPOKEN, gap=GAP)
    async with running(everywhere, village_groups) as bot:
        add_account(bot, "lishuji", Role.FACILITATOR, "李书记")
        async with visitor(bot, "lishuji") as guest:
            response = await upload(guest, audio, "浏览器录音.webm" if browser else "张老师.m4a",
                                    from_script=browser)
            saved = texts.RECORDING_SAVED.format(duration="1分08秒", paragraphs=6)
            if browser:
                assert response.status == 200
                assert (await response.json()) == {"message": saved}
            else:
                assert response.status == 302
            status, page = await guest.get(f"/admin/lessons/{SLUG}")
            assert status == 200
            assert "1分08秒" in page and "李书记" in page
            if not browser:
                assert saved in page  # the flash after the redirect
        # Every platform's file is made right after the upload, before anything is posted.
        def made() -> list[str] | None:
            found = sorted(p.name.split(".")[1] for p in everywhere.audio_dir.glob("*.clips"))
            return found if len(found) == 3 else None

        assert await eventually(made, 60) == ["amr", "mp3", "ogg"]

        deliveries = await post_everywhere(bot)
        web_seconds = await web_voice_seconds(bot)

    assert {d.speech_engine for d in deliveries} == {"recording"}
    assert not fake_edge.requests  # nothing synthesized for any group
    [voice] = telegram.to(VILLAGE, "voice")
    heard = probe(voice.voice)
    assert heard.codec == "opus"
    assert heard.duration_s == pytest.approx(TOTAL, abs=0.3)
    # As loud as a synthesized lesson, however loud the phone recorded it.
    assert loudness(voice.voice) == pytest.approx(-16.0, abs=1.5)
    [qq] = [s for s in napcat.sent if s.audio]
    assert probe(qq.audio).codec == "mp3"
    assert qq.audio_seconds == pytest.approx(TOTAL, abs=0.3)
    assert loudness(qq.audio) == pytest.approx(-16.0, abs=1.5)
    clips = [fake_wecom.media[m["voice"]["media_id"]].data
             for m in fake_wecom.delivered(KEY) if m["msgtype"] == "voice"]
    seconds = [amr_seconds(clip) for clip in clips]
    assert len(seconds) == 2 and max(seconds) <= 55.0
    assert sum(seconds) == pytest.approx(TOTAL, abs=0.3)
    assert web_seconds == pytest.approx(TOTAL, abs=0.3)


async def test_a_file_that_is_no_recording_is_refused_with_the_reason_and_nothing_is_kept(
        settings: Settings) -> None:
    async with running(settings) as bot:
        add_account(bot, "lishuji", Role.FACILITATOR, "李书记")
        async with visitor(bot, "lishuji") as guest:
            bad = await upload(guest, b"not audio at all " * 400, "通知.m4a")
            assert bad.status == 415
            assert texts.RECORDING_UNDECODABLE in await bad.text()
            scripted = await upload(guest, b"\x00" * 10_000, "浏览器录音.webm", from_script=True)
            assert scripted.status == 415
            assert await scripted.json() == {"error": texts.RECORDING_UNDECODABLE}
            forged = await upload(guest, recording(3.0, container="mp4", codec="aac"), "a.m4a",
                                  token="forged")
            assert forged.status == 403
            page = (await guest.get(f"/admin/lessons/{SLUG}"))[1]
            assert "还没有录音" in page
        async with visitor(bot) as stranger:
            response = await upload(stranger, recording(3.0, container="mp4", codec="aac"),
                                    "a.m4a", token="none")
            assert response.status == 302
            assert response.headers["Location"].startswith("/admin/login")
        with session(bot.app[ENGINE]) as db:
            assert db.exec(select(LessonRecording)).all() == []


async def test_removing_the_recording_in_the_console_brings_back_the_synthesized_voice(
        settings: Settings, fake_edge: FakeEdge) -> None:
    async with running(settings, lambda app: village_groups_web(app)) as bot:
        add_account(bot, "lishuji", Role.FACILITATOR, "李书记")
        async with visitor(bot, "lishuji") as guest:
            response = await upload(guest, recording(5.0, container="mp4", codec="aac"), "a.m4a")
            assert response.status == 302
            token = await guest.token(f"/admin/lessons/{SLUG}")
            removed = await guest.post(f"/admin/lessons/{SLUG}/recording/remove", {}, token)
            assert removed.status == 302
            page = (await guest.get(f"/admin/lessons/{SLUG}"))[1]
            assert texts.RECORDING_REMOVED in page
            assert "还没有录音" in page
            assert "以前的录音" in page and "a.m4a" not in page.split("以前的录音")[0]
        with session(bot.app[ENGINE]) as db:
            group = db.exec(select(Group)).one()
            add_schedule(db, SLUG, [(group.id or 0, group.timezone)],
                         run_at=utcnow() + timedelta(seconds=1))
        await bot.app[SCHEDULER].rearm()

        def engine_used() -> str | None:
            with session(bot.app[ENGINE]) as db:
                row = db.exec(select(Delivery)).first()
            return row.speech_engine if row and row.status == DeliveryStatus.SENT else None

        assert await eventually(engine_used, 60) == "edge-tts"
    assert fake_edge.requests


def village_groups_web(app: web.Application) -> None:
    with session(app[ENGINE]) as db:
        db.add(Group(platform="web", chat_id=ROOM, name="枫树村"))


async def test_a_recording_over_60_mb_is_refused_while_it_streams_in(settings: Settings) -> None:
    too_big = bytes(61 * 1024 * 1024)

    async def streamed(token: str) -> AsyncIterator[bytes]:
        """A browser's upload of unknown length: no Content-Length, so the cap must count."""
        yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
               f'{token}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; '
               'filename="a.m4a"\r\n\r\n').encode()
        for start in range(0, len(too_big), 1 << 20):
            yield too_big[start : start + (1 << 20)]
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    async with running(settings) as bot:
        add_account(bot, "lishuji", Role.FACILITATOR, "李书记")
        async with visitor(bot, "lishuji") as guest:
            declared = await upload(guest, too_big, "a.m4a")
            assert declared.status == 413
            assert texts.RECORDING_TOO_BIG.format(mb=60) in await declared.text()
            token = await guest.token(f"/admin/lessons/{SLUG}")
            async with guest.http.post(
                    f"{guest.url}/admin/lessons/{SLUG}/recording", data=streamed(token),
                    headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                    allow_redirects=False) as response:
                assert response.status == 413
                assert texts.RECORDING_TOO_BIG.format(mb=60) in await response.text()
        with session(bot.app[ENGINE]) as db:
            assert db.exec(select(LessonRecording)).all() == []

