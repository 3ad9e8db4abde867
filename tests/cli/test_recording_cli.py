"""`yehua lessons voice`: a facilitator keeps a speaker's recording as a lesson's voice."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlmodel import select

from bot.core.db import open_database, session
from bot.core.models import LessonRecording
from lessons.audio import probe
from lessons.variants import AudioFormat
from tests.support.fake_edge import FakeEdge
from tests.support.recordings import spoken_paragraphs

SLUG = "ebike-charging"  # six paragraphs


async def yehua(tmp_path: Path, fake_edge: FakeEdge, *args: str) -> tuple[int, str]:
    env = {**os.environ, "YEHUA_DATA_DIR": str(tmp_path / "data"),
           "YEHUA_TTS_ENDPOINT": fake_edge.url, "YEHUA_ESPEAK": "false", "COLUMNS": "200",
           "NO_PROXY": "127.0.0.1,localhost"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


def recordings(tmp_path: Path) -> list[LessonRecording]:
    engine = open_database(f"sqlite:///{tmp_path / 'data' / 'yehua.db'}")
    try:
        with session(engine) as db:
            return list(db.exec(select(LessonRecording)))
    finally:
        engine.dispose()


async def test_voice_keeps_the_recording_and_readies_every_platform_then_remove_drops_it(
        tmp_path: Path, fake_edge: FakeEdge) -> None:
    m4a = tmp_path / "张老师讲电动车.m4a"
    m4a.write_bytes(spoken_paragraphs([5.0, 4.0, 9.0, 6.0, 3.0, 2.5], gap=1.5))

    code, out = await yehua(tmp_path, fake_edge, "lessons", "voice", SLUG, "--file", str(m4a))
    assert code == 0, out
    assert "已保存「电动车充电，安全第一」的录音：37秒，找到 6 段（按停顿分段）。" in out
    assert "各平台的语音都准备好了" in out
    [row] = recordings(tmp_path)
    assert row.original_name == "张老师讲电动车.m4a" and row.uploaded_by == "命令行"
    assert 37.0 < probe(row.audio).duration_s < 38.0
    audio = tmp_path / "data" / "audio"
    for fmt in AudioFormat:
        assert (audio / f"{row.audio_hash}.{fmt}.clips").exists()

    code, out = await yehua(tmp_path, fake_edge, "lessons", "voice", SLUG, "--remove")
    assert code == 0, out
    assert "录音已删除，这一课以后用合成的语音。" in out
    [row] = recordings(tmp_path)
    assert row.removed_by == "命令行"
    assert not fake_edge.requests


async def test_voice_names_what_is_wrong_and_stores_nothing(
        tmp_path: Path, fake_edge: FakeEdge) -> None:
    text = tmp_path / "通知.m4a"
    text.write_text("这不是录音", "utf-8")
    m4a = tmp_path / "a.m4a"
    m4a.write_bytes(spoken_paragraphs([3.0]))
    cases = [
        (("nope", "--file", str(m4a)), "课程库里没有「nope」。"),
        ((SLUG, "--file", str(text)), "这个文件读不出声音，请传 MP3、M4A、AMR、WAV 或 OGG"),
        ((SLUG, "--file", str(tmp_path / "没有.m4a")), "找不到文件"),
        ((SLUG,), "请用 --file 指定录音文件，或用 --remove 删除录音。"),
        ((SLUG, "--remove"), "这一课没有录音，不用删除。"),
    ]
    for args, message in cases:
        code, out = await yehua(tmp_path, fake_edge, "lessons", "voice", *args)
        assert code == 1, out
        assert message in out, out
    assert recordings(tmp_path) == []
