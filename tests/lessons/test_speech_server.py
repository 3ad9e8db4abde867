"""A self-hosted speech server: real HTTP to a local fake, real PyAV, the real cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.audio import MP3_BYTES_PER_SECOND, probe
from lessons.speech import SpeechService, SpeechUnavailable, Synthesizer, Voice, segments
from lessons.synthesizers import EdgeSynthesizer, ServerSynthesizer, SpeechServer
from tests.support.fake_edge import FakeEdge
from tests.support.fakes.speech_server import KEY, FakeSpeechServer, closed_server_url

LESSON = "各位乡亲们好！今天我们学习党的基本知识。学完了，大家有问题可以在群里提。"
XIANG = Voice(profile="湘")
PUTONGHUA = Voice(profile="普通话")
INSTRUCTIONS = "用湖南长沙话说，语速慢一点"


def server(url: str, *, key: str = KEY, timeout: float = 10.0, instructions: str = INSTRUCTIONS,
           response_format: str = "wav") -> ServerSynthesizer:
    """A server synthesizer that never waits between retries."""
    return ServerSynthesizer(SpeechServer(url, api_key=key, timeout=timeout, backoff=0),
                             model="cosyvoice2", voice="中文男", instructions=instructions,
                             response_format=response_format)


def edge(url: str) -> EdgeSynthesizer:
    return EdgeSynthesizer(endpoint=url, timeout=5.0, retries=0, backoff=0)


def service(tmp_path: Path, chain: list[Synthesizer], *others: Synthesizer) -> SpeechService:
    """湘 speaks through `chain`; every other profile through `others` (or the chain)."""
    return SpeechService(tmp_path / "audio", others or chain, chains={"湘": chain})


@pytest.mark.parametrize("response_format", ["mp3", "wav"])
async def test_the_servers_audio_becomes_the_caches_mp3_with_the_whole_text_as_cue(
        tmp_path: Path, speech_server: FakeSpeechServer, response_format: str) -> None:
    synth = server(speech_server.url, response_format=response_format)
    speech = await service(tmp_path, [synth]).render(LESSON, XIANG)
    await synth.aclose()

    info = probe(speech.path.read_bytes())
    # 44.1 kHz stereo 128 kbps MP3 or 16 kHz stereo WAV in; the edge format out.
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", 24_000, 1)
    assert abs(speech.duration_s - info.duration_s) < 0.03
    assert speech.duration_s == speech.path.stat().st_size / MP3_BYTES_PER_SECOND
    assert speech.engine.startswith("speech-server:cosyvoice2:中文男")
    said = [text for text, _ in segments(LESSON)]
    assert sorted(speech_server.said()) == sorted(said)
    for text in said:
        assert text in speech.srt
    request = speech_server.speech_requests[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "cosyvoice2"
    assert request.body["voice"] == "中文男"
    assert request.body["instructions"] == INSTRUCTIONS
    assert request.body["response_format"] == response_format


async def test_each_profile_speaks_through_its_own_chain(
        tmp_path: Path, speech_server: FakeSpeechServer, fake_edge: FakeEdge) -> None:
    synth, online = server(speech_server.url), edge(fake_edge.url)
    speech = service(tmp_path, [synth, online], online)

    xiang = await speech.render(LESSON, XIANG)
    putonghua = await speech.render(LESSON, PUTONGHUA)
    await speech.close()

    assert xiang.engine.startswith("speech-server:")
    assert putonghua.engine == "edge-tts"
    assert len(speech_server.speech_requests) == len(segments(LESSON))
    assert len(fake_edge.requests) == len(segments(LESSON))


@pytest.mark.parametrize(("mode", "reason"), [
    ("fail", "HTTP 500: CUDA out of memory (3 attempts)"),
    ("garbage", "the server sent no usable audio"),
])
async def test_a_failing_server_falls_back_to_edge(
        tmp_path: Path, speech_server: FakeSpeechServer, fake_edge: FakeEdge,
        caplog: pytest.LogCaptureFixture, mode: str, reason: str) -> None:
    speech_server.speech.set_mode(mode)
    speech = service(tmp_path, [server(speech_server.url), edge(fake_edge.url)])

    result = await speech.render(LESSON, XIANG)
    await speech.close()

    assert result.engine == "edge-tts"
    assert speech.stats["fallback"] == 1
    assert reason in caplog.text


async def test_5xx_and_429_are_retried_but_a_refused_key_is_not(
        tmp_path: Path, speech_server: FakeSpeechServer) -> None:
    speech_server.speech.set_mode("busy", times=1)
    speech = service(tmp_path, [server(speech_server.url)])
    assert (await speech.render("今天学习党的基本知识。", XIANG)).engine.startswith("speech-")
    assert len(speech_server.speech_requests) == 2

    wrong = service(tmp_path / "wrong", [server(speech_server.url, key="sk-wrong")])
    with pytest.raises(SpeechUnavailable) as refused:
        await wrong.render("大家有问题可以在群里提。", XIANG)
    await speech.close()
    await wrong.close()

    assert "HTTP 401: Incorrect API key provided" in str(refused.value)
    assert "attempts" not in str(refused.value)
    assert speech_server.refused == 1


async def test_a_server_that_is_down_is_named(tmp_path: Path) -> None:
    speech = service(tmp_path, [server(closed_server_url())])
    with pytest.raises(SpeechUnavailable, match=r"cannot connect to 127\.0\.0\.1:\d+"):
        await speech.render(LESSON, XIANG)
    await speech.close()


async def test_a_slow_server_times_out_and_edge_speaks(
        tmp_path: Path, speech_server: FakeSpeechServer, fake_edge: FakeEdge,
        caplog: pytest.LogCaptureFixture) -> None:
    speech_server.speech.set_mode("slow")
    speech = service(tmp_path, [server(speech_server.url, timeout=0.5), edge(fake_edge.url)])

    result = await speech.render(LESSON, XIANG)
    await speech.close()

    assert result.engine == "edge-tts"
    assert "timed out after 0.5 s" in caplog.text
    # A timed-out request is not sent again: each segment was asked once.
    assert len(speech_server.speech_requests) == len(segments(LESSON))


async def test_a_changed_sentence_asks_the_server_for_that_sentence_only(
        tmp_path: Path, speech_server: FakeSpeechServer) -> None:
    speech = service(tmp_path, [server(speech_server.url)])
    await speech.render(LESSON, XIANG)
    edited = LESSON.replace("基本知识", "光荣历史")
    await speech.render(edited, XIANG)
    await speech.close()

    asked_again = speech_server.said()[len(segments(LESSON)):]
    assert asked_again == ["各位乡亲们好！今天我们学习党的光荣历史。"]


async def test_a_new_instruction_text_speaks_again_and_the_old_speech_stays_cached(
        tmp_path: Path, speech_server: FakeSpeechServer) -> None:
    first = await service(tmp_path, [server(speech_server.url)]).render(LESSON, XIANG)
    changed = service(tmp_path, [server(speech_server.url, instructions="用湘潭话说")])
    second = await changed.render(LESSON, XIANG)
    again = await service(tmp_path, [server(speech_server.url)]).render(LESSON, XIANG)

    assert second.path != first.path
    assert again.path == first.path
    asked = [r.body["instructions"] for r in speech_server.speech_requests]
    assert asked.count("用湘潭话说") == len(segments(LESSON))
    assert len(asked) == 2 * len(segments(LESSON))
