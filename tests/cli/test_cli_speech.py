"""`yehua lessons speak` and `render` as a facilitator runs them, against the fake service."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.support.fake_edge import FakeEdge


async def yehua(tmp_path: Path, fake_edge: FakeEdge, *args: str) -> tuple[int, str]:
    env = {**os.environ, "YEHUA_DATA_DIR": str(tmp_path / "data"),
           "YEHUA_TTS_ENDPOINT": fake_edge.url, "YEHUA_ESPEAK": "false", "COLUMNS": "200",
           "NO_PROXY": "127.0.0.1,localhost"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


async def test_speak_shows_the_flavoured_text_beside_the_original_and_makes_the_voice(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    code, out = await yehua(tmp_path, fake_edge, "lessons", "speak", "village-rules",
                            "--profile", "湘", "--show-text")
    assert code == 0, out
    assert "原文（发到群里）" in out and "朗读稿（念给大家听）" in out
    assert "今天这堂微党课" in out and "今日这堂微党课" in out
    assert "引擎 edge-tts" in out
    assert list((tmp_path / "data" / "audio").glob("*.mp3"))
    assert fake_edge.requests


async def test_render_all_reports_what_was_synthesized_then_serves_from_cache(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    code, first = await yehua(tmp_path, fake_edge, "lessons", "render", "--all")
    assert code == 0, first
    asked = len(fake_edge.requests)
    assert asked > 0 and "合成情况" in first
    code, second = await yehua(tmp_path, fake_edge, "lessons", "render", "--all")
    assert code == 0, second
    assert len(fake_edge.requests) == asked  # nothing synthesized twice


async def test_render_with_the_service_down_fails_and_names_the_lessons(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    fake_edge.set_mode("no_audio")
    code, out = await yehua(tmp_path, fake_edge, "lessons", "render", "telecom-fraud")
    assert code == 1
    assert "没能合成" in out and "telecom-fraud" in out


async def test_unknown_profile_is_refused_listing_the_real_ones(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    code, out = await yehua(tmp_path, fake_edge, "lessons", "speak", "village-rules",
                            "--profile", "火星", "--no-audio")
    assert code == 1
    assert "没有「火星」这个语音风格" in out and "东北" in out


async def test_voices_lists_profiles_and_voices(tmp_path: Path, fake_edge: FakeEdge) -> None:
    code, out = await yehua(tmp_path, fake_edge, "voices")
    assert code == 0
    for expected in ("湘", "东北", "zh-CN-liaoning-XiaobeiNeural", "zh-CN-shaanxi-XiaoniNeural",
                     "zh-HK-HiuMaanNeural", "zh-TW-HsiaoChenNeural"):
        assert expected in out
