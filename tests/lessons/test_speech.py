"""Lesson speech: real edge-tts against a local fake service, real espeak-ng, real PyAV."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import math
import shutil
import tracemalloc
from array import array
from pathlib import Path

import av
import pytest
from edge_tts.drm import DRM

import lessons
from lessons.audio import mp3_duration, silence_mp3, wav_to_mp3
from lessons.shaping import split_for_speech
from lessons.speech import (
    SpeechService,
    SpeechUnavailable,
    SynthesisError,
    Synthesizer,
    Voice,
    segments,
)
from lessons.synthesizers import EdgeSynthesizer, EspeakSynthesizer
from tests.support.fake_edge import FakeEdge, closed_port_url
from tests.support.polling import eventually

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed "
                                  "(apt-get install espeak-ng): the offline fallback cannot run")
FRAME_S = 0.024

LESSON = "各位乡亲们好！今天我们学习党的基本知识。学完了，大家有问题可以在群里提。"
LONG_LESSON = "".join(f"第{n}条，乡村振兴要靠大家一起努力，把村里的事办好办实。"
                      for n in range(12))
VOICE = Voice()


def edge(url: str, *, timeout: float = 60.0, retries: int = 2) -> EdgeSynthesizer:
    """An edge synthesizer that never waits between retries."""
    return EdgeSynthesizer(endpoint=url, timeout=timeout, retries=retries, backoff=0)


def service(tmp_path: Path, *synthesizers: Synthesizer) -> SpeechService:
    """A speech service caching under the test's own folder."""
    return SpeechService(tmp_path / "audio", synthesizers)


async def test_lesson_is_spoken_with_the_chosen_voice_and_prosody(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    speech = await service(tmp_path, edge(fake_edge.url)).render(LESSON, VOICE)

    data = speech.path.read_bytes()
    assert speech.engine == "edge-tts"
    assert speech.path == tmp_path / "audio" / f"{speech.path.stem}.mp3"
    assert len(speech.path.stem) == 64
    decoded = mp3_duration(data)
    assert decoded > 0
    assert abs(decoded - len(data) / 6000) <= FRAME_S
    assert abs(speech.duration_s - decoded) <= FRAME_S
    said = [text for text, _ in segments(LESSON)]
    # Segments are synthesized concurrently, so requests arrive in any order;
    # what the listener hears (the subtitles) must keep the lesson's order.
    assert sorted(r.text.replace("\n", "") for r in fake_edge.requests) == sorted(said)
    assert "".join(said) == LESSON
    request = fake_edge.requests[0]
    assert request.voice == "Microsoft Server Speech Text to Speech Voice (zh-CN, YunyangNeural)"
    assert request.prosody == {"pitch": "-2Hz", "rate": "-10%", "volume": "+15%"}
    assert request.query["TrustedClientToken"]
    assert speech.srt.count(" --> ") == 3
    sentences = ("各位乡亲们好！", "今天我们学习党的基本知识。",
                 "学完了，大家有问题可以在群里提。")
    cue_order = [speech.srt.index(text) for text in sentences]
    assert cue_order == sorted(cue_order)
    assert speech.path.with_suffix(".srt").read_text("utf-8") == speech.srt


async def test_later_pieces_have_cues_after_the_earlier_audio(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    pieces = split_for_speech(LONG_LESSON)
    assert len(pieces) > 1

    audio = await edge(fake_edge.url).synthesize(LONG_LESSON, VOICE)

    assert len(fake_edge.requests) == len(pieces)
    starts = [cue.start for cue in audio.cues]
    assert starts == sorted(starts) and len(audio.cues) == 12
    assert audio.cues[-1].end <= mp3_duration(audio.mp3) + FRAME_S


async def test_a_403_with_a_skewed_clock_still_gives_audio(
    fake_edge: FakeEdge, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The skew is process-global in edge-tts: put it back after this test.
    monkeypatch.setattr(DRM, "clock_skew_seconds", DRM.clock_skew_seconds)
    before = DRM.clock_skew_seconds
    fake_edge.set_mode("forbidden_once")

    audio = await edge(fake_edge.url, retries=0).synthesize(LESSON, VOICE)

    assert mp3_duration(audio.mp3) > 1
    assert fake_edge.handshakes == 2
    assert DRM.clock_skew_seconds < before - 1800


async def test_no_audio_is_retried_then_reported(fake_edge: FakeEdge) -> None:
    fake_edge.set_mode("no_audio")

    with pytest.raises(SynthesisError, match="no audio"):
        await edge(fake_edge.url, retries=2).synthesize(LESSON, VOICE)

    assert len(fake_edge.requests) == 3


async def test_a_stalled_service_times_out_instead_of_hanging(fake_edge: FakeEdge) -> None:
    fake_edge.set_mode("stall")

    with pytest.raises(SynthesisError, match="timed out after 1 s"):
        await edge(fake_edge.url, timeout=1, retries=0).synthesize(LESSON, VOICE)


async def test_truncated_audio_is_detected_and_retried(fake_edge: FakeEdge) -> None:
    fake_edge.set_mode("truncate", times=1)

    audio = await edge(fake_edge.url, retries=1).synthesize(LESSON, VOICE)

    assert len(fake_edge.requests) == 2
    assert [cue.text for cue in audio.cues][-1] == "学完了，大家有问题可以在群里提。"


async def test_audio_that_is_always_truncated_is_a_failure(fake_edge: FakeEdge) -> None:
    fake_edge.set_mode("truncate")

    with pytest.raises(SynthesisError, match="truncated"):
        await edge(fake_edge.url, retries=1).synthesize(LESSON, VOICE)

    assert len(fake_edge.requests) == 2


@needs_espeak
async def test_service_down_falls_back_to_espeak(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    speeches = service(tmp_path, edge(closed_port_url(), retries=1), EspeakSynthesizer())

    with caplog.at_level(logging.WARNING, logger="lessons.speech"):
        speech = await speeches.render(LESSON, VOICE)

    assert speech.engine == "espeak-ng"
    assert mp3_duration(speech.path.read_bytes()) > 1
    assert speech.srt.count(" --> ") == 3
    assert "espeak-ng" in caplog.text and "edge-tts" in caplog.text
    assert speeches.stats["fallback"] == 1


@needs_espeak
async def test_a_cached_fallback_is_reused_until_the_service_is_back(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    offline = service(tmp_path, edge(closed_port_url(), retries=0), EspeakSynthesizer())
    first = await offline.render(LESSON, VOICE)

    again = await offline.render(LESSON, VOICE)
    back = service(tmp_path, edge(fake_edge.url), EspeakSynthesizer())
    online = await back.render(LESSON, VOICE)

    assert again == first and again.engine == "espeak-ng"
    assert offline.stats["synthesized"] == len(segments(LESSON))
    assert online.engine == "edge-tts" and len(fake_edge.requests) == len(segments(LESSON))


async def test_no_service_and_no_espeak_is_unavailable_with_both_reasons(tmp_path: Path) -> None:
    speeches = service(tmp_path, edge(closed_port_url(), retries=0),
                       EspeakSynthesizer(binary="espeak-ng-not-installed"))

    with pytest.raises(SpeechUnavailable) as caught:
        await speeches.render(LESSON, VOICE)

    assert "edge-tts: cannot connect to 127.0.0.1" in str(caught.value)
    assert "espeak-ng: espeak-ng-not-installed is not installed" in str(caught.value)
    assert speeches.stats["failed"] == 1
    assert not list((tmp_path / "audio").glob("*.mp3"))


async def test_second_render_comes_from_the_cache(tmp_path: Path, fake_edge: FakeEdge) -> None:
    first = await service(tmp_path, edge(fake_edge.url)).render(LESSON, VOICE)
    restarted = service(tmp_path, edge(fake_edge.url))

    second = await restarted.render(LESSON, VOICE)

    assert second.path == first.path and second.srt == first.srt
    assert abs(second.duration_s - first.duration_s) <= FRAME_S
    assert len(fake_edge.requests) == len(segments(LESSON))
    assert restarted.stats == {"synthesized": 0, "cached": 1, "failed": 0, "fallback": 0}


async def test_another_voice_is_synthesized_separately(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    speeches = service(tmp_path, edge(fake_edge.url))
    slow = Voice(rate="-20%")

    plain, slowed = await speeches.render(LESSON, VOICE), await speeches.render(LESSON, slow)

    assert plain.path != slowed.path
    n = len(segments(LESSON))
    assert [r.prosody["rate"] for r in fake_edge.requests] == ["-10%"] * n + ["-20%"] * n


async def test_twenty_lessons_rendered_at_once_all_succeed(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    speeches = service(tmp_path, edge(fake_edge.url))
    lessons = [f"第{n}课。{LESSON}" for n in range(20)]

    results = await asyncio.gather(*(speeches.render(text, VOICE) for text in lessons))

    assert {r.engine for r in results} == {"edge-tts"}
    assert len({r.path for r in results}) == 20
    assert all(mp3_duration(r.path.read_bytes()) > 1 for r in results)
    unique = {piece for text in lessons for piece, _ in segments(text)}
    said = sorted(r.text.replace("\n", "") for r in fake_edge.requests)
    assert said == sorted(unique)  # a sentence shared by lessons is said once


async def test_rendered_lessons_are_kept_on_disk_not_in_the_bots_memory(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    speeches = service(tmp_path, edge(fake_edge.url))
    ours = tracemalloc.Filter(True, str(Path(lessons.__file__).parent / "*"))

    tracemalloc.start()
    try:
        voices = [await speeches.render(f"第{n}课。{LONG_LESSON}", VOICE) for n in range(5)]
        gc.collect()
        held = tracemalloc.take_snapshot().filter_traces([ours])
    finally:
        tracemalloc.stop()

    smallest = min(v.path.stat().st_size for v in voices)
    assert smallest > 100_000
    # What the speech code still holds once it is done: not the voices, nor their segments.
    assert sum(stat.size for stat in held.statistics("filename")) < smallest // 5


async def test_ten_groups_asking_at_once_cause_one_request_per_piece(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    speeches = service(tmp_path, edge(fake_edge.url))

    results = await asyncio.gather(*(speeches.render(LONG_LESSON, VOICE) for _ in range(10)))

    assert len({r.path for r in results}) == 1
    pieces = len(segments(LONG_LESSON))
    assert len(fake_edge.requests) == pieces
    assert speeches.stats["synthesized"] == pieces and speeches.stats["cached"] == 9


async def test_an_edited_lesson_resynthesizes_only_the_changed_sentence(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    speeches = service(tmp_path, edge(fake_edge.url))
    before = await speeches.render(LONG_LESSON, VOICE)
    asked = len(fake_edge.requests)
    edited = LONG_LESSON.replace("第3条，", "第三条，")

    after = await speeches.render(edited, VOICE)

    assert after.path != before.path
    assert [r.text.replace("\n", "") for r in fake_edge.requests[asked:]] == [
        piece for piece, _ in segments(edited) if "第三条" in piece]


async def test_a_bad_voice_setting_fails_without_asking_the_service(fake_edge: FakeEdge) -> None:
    with pytest.raises(SynthesisError, match="invalid voice settings"):
        await edge(fake_edge.url).synthesize(LESSON, Voice(rate="slow"))

    assert fake_edge.handshakes == 0


async def test_closing_the_service_stops_a_stalled_synthesis(
    tmp_path: Path, fake_edge: FakeEdge
) -> None:
    fake_edge.set_mode("stall")
    speeches = service(tmp_path, edge(fake_edge.url, timeout=600))
    rendering = asyncio.create_task(speeches.render(LESSON, VOICE))
    await eventually(lambda: fake_edge.requests)

    await speeches.close()

    with pytest.raises(asyncio.CancelledError):
        await rendering
    assert not list((tmp_path / "audio").glob("*.mp3"))


def test_long_chinese_text_without_spaces_is_split_losing_nothing() -> None:
    text = "各位乡亲们好，今天我们学习党的基本知识。" * 60 + "这一句很长没有标点" * 40

    pieces = split_for_speech(text, limit=200)

    assert len(pieces) > 6
    assert all(len(piece) <= 200 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text


def test_punctuation_only_pieces_are_dropped() -> None:
    pieces = split_for_speech("……\n——！\n好。", limit=3)

    assert pieces == ["好。"]


def _tone_wav(rate: int, seconds: float) -> bytes:
    """A stereo 440 Hz WAV made with PyAV, as another engine might write it."""
    samples = round(rate * seconds)
    wave = array("h", (round(8000 * math.sin(2 * math.pi * 440 * i / rate))
                       for i in range(samples) for _ in range(2)))
    out = io.BytesIO()
    with av.open(out, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="stereo")
        frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        frame.sample_rate = rate
        frame.planes[0].update(wave.tobytes())
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_wav_at_any_rate_becomes_edge_format_mp3(rate: int) -> None:
    mp3 = wav_to_mp3(_tone_wav(rate, 2.0))

    assert mp3[:4] == bytes.fromhex("fff364c4"), "MPEG-2 L3, 48 kbps, 24 kHz, mono"
    assert abs(mp3_duration(mp3) - 2.0) < 0.1
    assert abs(len(mp3) / 6000 - mp3_duration(mp3)) <= FRAME_S


def test_undecodable_audio_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="undecodable"):
        mp3_duration(b"not audio at all" * 50)


def test_silence_joins_edge_audio_byte_for_byte() -> None:
    gap = silence_mp3(0.6)

    assert gap[:4] == bytes.fromhex("fff364c4")
    assert abs(mp3_duration(gap) - 0.6) < 0.1
    assert mp3_duration(gap + gap) == pytest.approx(2 * mp3_duration(gap))
