"""湘 speaks through a self-hosted speech server while 普通话 stays on edge-tts, in one app."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER, VOICE
from bot.core.db import session
from bot.core.models import ChatMessage, Group
from bot.settings import Settings, SettingsError, load_settings, speech_server_settings
from lessons.profiles import PROFILES
from lessons.speech import segments
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import RunningApp, running
from tests.support.fake_edge import FakeEdge
from tests.support.fakes.speech_server import KEY, FakeSpeechServer
from tests.support.polling import eventually

LESSON = "ebike-charging"
HUNAN = "用湖南长沙话说，语速慢一点"


def with_server(settings: Settings, server: FakeSpeechServer, **env: str) -> Settings:
    """The test's settings with the speech server for 湘, read as start-up reads them."""
    variables = {"YEHUA_TTS_SERVER_URL": server.url, "YEHUA_TTS_SERVER_MODEL": "cosyvoice2",
                 "YEHUA_TTS_SERVER_VOICE": "中文男", "YEHUA_TTS_SERVER_API_KEY": KEY,
                 "YEHUA_TTS_SERVER_INSTRUCTIONS": f"湘={HUNAN}", **env}
    return replace(settings, speech_server=speech_server_settings(variables))


def squeezed(text: str) -> str:
    """The text without its line breaks and spaces (each engine lays them out its own way)."""
    return "".join(text.split())


async def post_to_two_groups(bot: RunningApp) -> None:
    """Schedule a lesson for a 湘 group and a 普通话 group, due now."""
    with session(bot.app[ENGINE]) as db:
        groups = [Group(platform="web", chat_id="xiang", name="枫树屋场", speech_profile="湘"),
                  Group(platform="web", chat_id="town", name="镇上", speech_profile="普通话")]
        db.add_all(groups)
        db.flush()
        add_schedule(db, LESSON, [(g.id or 0, g.timezone) for g in groups],
                     run_at=utcnow() + timedelta(seconds=1))
    await bot.app[SCHEDULER].rearm()


def engines(bot: RunningApp) -> dict[str, str | None]:
    """Each room's lesson voice engine, once both voices went out."""
    with session(bot.app[ENGINE]) as db:
        rows = db.exec(select(Group.chat_id, Delivery.speech_engine)
                       .join(Delivery, col(Delivery.group_id) == col(Group.id))
                       .where(Delivery.status == DeliveryStatus.SENT)).all()
        voiced = db.exec(select(ChatMessage.group_id)
                         .where(col(ChatMessage.audio_url).is_not(None))).all()
    return dict(rows) if len(rows) == 2 and len(voiced) == 2 else {}


async def test_xiang_uses_the_server_while_putonghua_uses_edge(
        settings: Settings, speech_server: FakeSpeechServer, fake_edge: FakeEdge) -> None:
    async with running(with_server(settings, speech_server)) as bot:
        await post_to_two_groups(bot)
        # Each engine speaks two sentences at a time: a loaded machine takes a while.
        sent = await eventually(lambda: engines(bot), within=40)

        voice = bot.app[VOICE]
        lesson = await voice.find_lesson(LESSON)
        assert lesson is not None
        xiang = voice.spoken(lesson, voice.tune(PROFILES["湘"]))
        town = voice.spoken(lesson, voice.tune(PROFILES["普通话"]))

    assert (sent["xiang"] or "").startswith("speech-server:cosyvoice2:中文男:")
    assert sent["town"] == "edge-tts"
    bodies = [r.body for r in speech_server.speech_requests]
    assert {(b["voice"], b["instructions"], b["model"]) for b in bodies} == {
        ("中文男", HUNAN, "cosyvoice2")}
    # 湘's wording went to the server, 普通话's to edge-tts, each sentence once.
    assert xiang != town
    assert sorted(map(squeezed, speech_server.said())) == sorted(
        squeezed(text) for text, _ in segments(xiang))
    assert sorted(squeezed(r.text) for r in fake_edge.requests) == sorted(
        squeezed(text) for text, _ in segments(town))
    assert {r.headers["Authorization"] for r in speech_server.speech_requests} == {
        f"Bearer {KEY}"}


@pytest.mark.parametrize("mode", ["fail", "slow"])
async def test_when_the_server_fails_or_stalls_xiang_still_hears_the_lesson_from_edge(
        settings: Settings, speech_server: FakeSpeechServer, fake_edge: FakeEdge,
        mode: str) -> None:
    speech_server.speech.set_mode(mode)
    server_settings = with_server(settings, speech_server, YEHUA_TTS_SERVER_TIMEOUT="0.2")
    async with running(server_settings) as bot:
        await post_to_two_groups(bot)
        # Every sentence waits out the timeout, two at a time, before edge-tts speaks it.
        sent = await eventually(lambda: engines(bot), within=40)

    assert sent == {"xiang": "edge-tts", "town": "edge-tts"}
    assert speech_server.speech_requests, "the server was asked first"


@pytest.mark.parametrize(("env", "variable"), [
    ({"YEHUA_TTS_SERVER_URL": "cosyvoice:50000/v1"}, "YEHUA_TTS_SERVER_URL"),
    ({"YEHUA_TTS_SERVER_URL": "http://gpu:50000/v1"}, "YEHUA_TTS_SERVER_MODEL"),
    ({"YEHUA_TTS_SERVER_URL": "http://gpu:50000/v1", "YEHUA_TTS_SERVER_MODEL": "cosyvoice2"},
     "YEHUA_TTS_SERVER_VOICE"),
    ({"YEHUA_TTS_SERVER_PROFILES": "湘,客家"}, "YEHUA_TTS_SERVER_PROFILES"),
    ({"YEHUA_TTS_SERVER_PROFILES": "湘"}, "YEHUA_TTS_SERVER_URL"),
    ({"YEHUA_TTS_SERVER_INSTRUCTIONS": "客家=用客家话说"}, "YEHUA_TTS_SERVER_INSTRUCTIONS"),
    ({"YEHUA_TTS_SERVER_TIMEOUT": "0"}, "YEHUA_TTS_SERVER_TIMEOUT"),
    ({"YEHUA_ASR_URL": "http://gpu:9000/v1"}, "YEHUA_ASR_MODEL"),
    ({"YEHUA_ASR_TIMEOUT": "soon"}, "YEHUA_ASR_TIMEOUT"),
])
def test_bad_speech_server_settings_stop_start_up_naming_the_variable(
        env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert info.value.variable == variable
    assert variable in str(info.value)


def test_a_server_url_alone_gives_it_xiang_with_its_built_in_instruction() -> None:
    settings = load_settings({"YEHUA_TTS_SERVER_URL": "http://gpu:50000/v1/",
                              "YEHUA_TTS_SERVER_MODEL": "cosyvoice2",
                              "YEHUA_TTS_SERVER_VOICE": "中文男"})
    server = settings.speech_server
    assert server.url == "http://gpu:50000/v1"
    assert server.profiles == ("湘",)
    assert "湖南" in server.instructions["湘"]


async def yehua_voices(tmp_path: Path, **variables: str) -> tuple[int, str]:
    """`yehua voices` as a facilitator runs it, with these settings."""
    env = {**os.environ, "YEHUA_DATA_DIR": str(tmp_path / "data"), "YEHUA_ESPEAK": "false",
           "COLUMNS": "250", **variables}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "voices", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


async def test_a_server_without_its_model_stops_the_command_naming_the_variable(
        tmp_path: Path) -> None:
    code, out = await yehua_voices(tmp_path, YEHUA_TTS_SERVER_URL="http://gpu:50000/v1",
                                   YEHUA_TTS_SERVER_VOICE="中文男")
    assert code != 0
    assert "YEHUA_TTS_SERVER_MODEL" in out and "Traceback" not in out


async def test_yehua_voices_names_the_server_where_it_speaks(
        tmp_path: Path, speech_server: FakeSpeechServer) -> None:
    code, out = await yehua_voices(
        tmp_path, YEHUA_TTS_SERVER_URL=speech_server.url, YEHUA_TTS_SERVER_MODEL="cosyvoice2",
        YEHUA_TTS_SERVER_VOICE="中文男", YEHUA_TTS_SERVER_PROFILES="湘,粤")
    lines = out.splitlines()

    assert code == 0, out
    server = "自建语音服务器 cosyvoice2（中文男） → edge-tts"
    assert [line for line in lines if "│ 湘 " in line and server in line]
    assert [line for line in lines if "│ 粤 " in line and server in line]
    putonghua = [line for line in lines if "│ 普通话 " in line]
    assert putonghua and "自建语音服务器" not in putonghua[0] and "edge-tts" in putonghua[0]
