"""A speaker's recording as a lesson's voice: stored, cued by paragraph, refused, removed."""

from __future__ import annotations

import io
import wave
from dataclasses import replace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import texts
from bot.core.db import session
from bot.core.models import LessonRecord, LessonRecording
from bot.domain.recordings import (
    MAX_RECORDING_BYTES,
    RecordingError,
    paragraphs_of,
    recordings_of,
)
from bot.domain.voice import LessonVoice, build_speech
from bot.settings import Settings
from lessons.audio import probe
from lessons.library import Lesson
from lessons.profiles import PROFILES
from tests.support.fake_edge import FakeEdge
from tests.support.recordings import recording, spoken_paragraphs

SLUG = "ebike-charging"  # six paragraphs
SPOKEN = [5.0, 4.0, 9.0, 6.0, 3.0, 2.5]
GAP = 1.5


@pytest.fixture
def voice(engine: Engine, settings: Settings) -> LessonVoice:
    with session(engine) as db:
        db.add(LessonRecord(slug=SLUG, title="电动车充电安全"))
    return LessonVoice(engine, settings.lessons_dir, build_speech(settings))


async def lesson(voice: LessonVoice) -> Lesson:
    found = await voice.find_lesson(SLUG)
    assert found is not None
    return found


@pytest.fixture
async def ebike(voice: LessonVoice) -> Lesson:
    return await lesson(voice)


def stored(engine: Engine) -> list[LessonRecording]:
    with session(engine) as db:
        return list(db.exec(select(LessonRecording)))


def cue_times(srt: str) -> list[tuple[float, float]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [(seconds(a), seconds(b)) for a, b in
            (line.split(" --> ") for line in srt.splitlines() if " --> " in line)]


async def test_an_m4a_becomes_every_profiles_voice_with_a_subtitle_per_paragraph(
        voice: LessonVoice, ebike: Lesson, engine: Engine, fake_edge: FakeEdge) -> None:
    m4a = spoken_paragraphs(SPOKEN, gap=GAP)
    speech, paragraphs = await voice.keep_recording(ebike, m4a, original_name="张老师.m4a",
                                                     uploaded_by="李书记")

    total = sum(SPOKEN) + GAP * (len(SPOKEN) - 1)
    assert paragraphs == 6
    assert speech.engine == "recording"
    assert speech.duration_s == pytest.approx(total, abs=0.2)
    info = probe(speech.path.read_bytes())
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", 24_000, 1)
    assert info.duration_s == pytest.approx(total, abs=0.2)
    # Each paragraph's subtitle starts after the pause before it and ends before the next.
    times = cue_times(speech.srt)
    assert len(times) == 6
    starts = [sum(SPOKEN[:i]) + GAP * i for i in range(6)]
    for (start, end), expected, length in zip(times, starts, SPOKEN, strict=True):
        assert start == pytest.approx(expected, abs=0.25)
        assert end == pytest.approx(expected + length, abs=0.25)
    texts_in_srt = [block.splitlines()[2] for block in speech.srt.strip().split("\n\n")]
    assert texts_in_srt == paragraphs_of(ebike)
    assert speech.path.with_suffix(".srt").read_text("utf-8") == speech.srt

    for profile in PROFILES.values():
        rendered = await voice.render(ebike, voice.tune(profile))
        assert rendered is not None
        assert (rendered.engine, rendered.path) == ("recording", speech.path)
    assert not fake_edge.requests  # nothing was synthesized
    [row] = stored(engine)
    assert (row.original_name, row.uploaded_by, row.removed_at) == ("张老师.m4a", "李书记", None)
    # An editor listening to the written text still hears it synthesized.
    synthesized = await voice.synthesize(ebike, PROFILES["湘"])
    assert synthesized is not None and synthesized.engine == "edge-tts"


async def test_another_instance_writes_the_file_from_the_database(
        voice: LessonVoice, ebike: Lesson, engine: Engine, settings: Settings) -> None:
    webm = recording(6.0, container="webm", codec="libopus")
    speech, _ = await voice.keep_recording(ebike, webm, original_name="浏览器录音.webm",
                                           uploaded_by="李书记")
    elsewhere = replace(settings, data_dir=settings.data_dir.parent / "other")
    other = LessonVoice(engine, elsewhere.lessons_dir, build_speech(elsewhere))
    rendered = await other.render((await lesson(other)), PROFILES["湘"])

    assert rendered is not None and rendered.path != speech.path
    assert rendered.path.read_bytes() == speech.path.read_bytes()
    assert probe(rendered.path.read_bytes()).duration_s == pytest.approx(6.0, abs=0.15)


async def test_with_fewer_pauses_than_paragraphs_the_subtitles_share_the_time_by_length(
        voice: LessonVoice, ebike: Lesson) -> None:
    speech, paragraphs = await voice.keep_recording(
        ebike, recording(12.0, container="mp4", codec="aac"), original_name="a.m4a",
        uploaded_by="李书记")
    times = cue_times(speech.srt)
    lengths = [len(p) for p in paragraphs_of(ebike)]
    assert paragraphs == len(times) == 6
    assert times[0][0] == 0.0 and times[-1][1] == pytest.approx(speech.duration_s, abs=0.01)
    # The long third paragraph gets the longest subtitle.
    spans = [b - a for a, b in times]
    assert spans.index(max(spans)) == lengths.index(max(lengths))


def silent_wav(seconds: float, rate: int = 8_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(b"\x80" * round(seconds * rate))
    return out.getvalue()


@pytest.mark.parametrize(("audio", "status", "message"), [
    (b"ID3 this is a text file, not a recording" * 50, 415, texts.RECORDING_UNDECODABLE),
    (silent_wav(20.0), 415, texts.RECORDING_SILENT),
    (silent_wav(31 * 60), 413, texts.RECORDING_TOO_LONG.format(minutes=30)),
    (b"\0" * (MAX_RECORDING_BYTES + 1), 413, texts.RECORDING_TOO_BIG.format(mb=60)),
], ids=["undecodable", "silent", "too-long", "too-big"])
async def test_a_file_that_cannot_be_a_voice_is_refused_and_nothing_is_stored(
        voice: LessonVoice, ebike: Lesson, engine: Engine, fake_edge: FakeEdge, audio: bytes,
        status: int, message: str) -> None:
    with pytest.raises(RecordingError) as refused:
        await voice.keep_recording(ebike, audio, original_name="x", uploaded_by="李书记")
    assert (refused.value.status, refused.value.message) == (status, message)
    assert stored(engine) == []
    rendered = await voice.render(ebike, PROFILES["普通话"])
    assert rendered is not None and rendered.engine == "edge-tts"


async def test_removing_falls_back_to_synthesis_and_keeps_the_history(
        voice: LessonVoice, ebike: Lesson, engine: Engine, fake_edge: FakeEdge) -> None:
    for name in ("第一次.m4a", "第二次.amr"):
        await voice.keep_recording(
            ebike, recording(4.0, container="mp4", codec="aac") if name.endswith("m4a")
            else recording(5.0, container="amr", codec="libopencore_amrnb", rate=8_000,
                           bit_rate=12_200),
            original_name=name, uploaded_by="李书记")
    current = await voice.render(ebike, PROFILES["普通话"])
    assert current is not None and current.duration_s == pytest.approx(5.0, abs=0.15)

    removed = await voice.drop_recording(SLUG, removed_by="王主任")
    assert removed is not None and removed.original_name == "第二次.amr"
    # The earlier take, replaced by the upload, is not brought back: synthesis speaks again.
    rendered = await voice.render(ebike, PROFILES["普通话"])
    assert rendered is not None and rendered.engine == "edge-tts"
    assert fake_edge.requests
    assert await voice.drop_recording(SLUG, removed_by="王主任") is None
    with session(engine) as db:
        history = recordings_of(db, SLUG)
    assert [(r.original_name, r.removed_by) for r in history] == [
        ("第二次.amr", "王主任"), ("第一次.m4a", "李书记")]
