"""`yehua lessons speak` and `render` as a facilitator runs them, against the fake service."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from rich.cells import cell_len

from lessons.library import load_library
from lessons.shaping import sentences
from tests.support.fake_edge import FakeEdge

LIBRARY = Path(__file__).resolve().parents[2] / "lessons" / "library"


async def yehua(tmp_path: Path, fake_edge: FakeEdge, *args: str, columns: int = 200
                ) -> tuple[int, str]:
    env = {**os.environ, "YEHUA_DATA_DIR": str(tmp_path / "data"),
           "YEHUA_TTS_ENDPOINT": fake_edge.url, "YEHUA_ESPEAK": "false", "COLUMNS": str(columns),
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
    assert "原文 今天就讲到这里，谢谢大家！" in out
    assert "读作 今日就讲到这里，谢谢大家！" in out
    # The opening names 移风易俗, an official formulation: it is read exactly as posted.
    assert "原文 今天这堂微党课，跟大家讲讲移风易俗，说说红白喜事怎么办。" in out
    assert "今日这堂微党课" not in out
    assert "照原文念：有官方说法" in out
    assert "引擎 edge-tts" in out
    assert list((tmp_path / "data" / "audio").glob("*.mp3"))
    assert fake_edge.requests


def _squeezed(text: str) -> str:
    return "".join(text.split())


async def test_show_text_prints_every_sentence_whole_folded_at_a_narrow_terminal(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    code, out = await yehua(tmp_path, fake_edge, "lessons", "speak", "no1-document-2026",
                            "-p", "湘", "--show-text", "--no-audio", columns=48)
    assert code == 0, out
    lesson = load_library(LIBRARY).get("no1-document-2026")
    assert lesson is not None
    printed = _squeezed(out)
    for sentence in sentences(lesson.plain_text):
        assert f"原文{_squeezed(sentence)}" in printed, sentence
    assert "读作今日想问问大家：今年你家打算种点么子？" in printed
    assert "…" not in out  # nothing cut short
    assert max(cell_len(line.rstrip()) for line in out.splitlines()) <= 48
    assert not fake_edge.requests  # --no-audio: nothing synthesized


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
