"""Lessons transcoded for each platform and members' voices converted in short-lived children:
PyAV never stays in the bot."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.speech_transcode import speech_like_mp3
from lessons.audio import probe, to_ogg_opus
from lessons.speech import Speech
from lessons.variants import AudioFormat, AudioVariants
from lessons.worker import Worker

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 20.0

# A bot-like process: every platform's files of one spoken lesson, then its own modules.
POST_EVERY_FORMAT = """
import asyncio, json, sys
from pathlib import Path
from lessons.speech import Speech
from lessons.variants import AudioFormat, AudioVariants
from lessons.worker import AUDIO

async def main():
    variants = AudioVariants(AUDIO)  # as the bot makes its own
    speech = Speech(Path(sys.argv[1]), float(sys.argv[2]), "edge", "")
    clips = {str(f): [[str(c.path), c.duration_s] for c in await variants.clips(speech, f)]
             for f in AudioFormat}
    worker = variants.worker.pid
    variants.close()
    return {"clips": clips, "worker": worker,
            "pyav": sorted(m for m in sys.modules if m.split(".")[0] == "av")}

print(json.dumps(asyncio.run(main())))
"""


# A bot-like process: a member's voice message and a speaker's recording (OGG/Opus from a phone)
# taken in, then its own modules.
TAKE_A_VOICE = """
import json, sys
from pathlib import Path
from bot.adapters.media import prepare_voice
from lessons.audio_jobs import prepare_recording_away
mp3, seconds = prepare_voice(open(sys.argv[1], "rb").read())
open(sys.argv[2], "wb").write(mp3)
recording = prepare_recording_away(Path(sys.argv[1]), max_seconds=600)
print(json.dumps({"seconds": seconds, "recording": recording.duration_s,
                  "recording_mp3": len(recording.mp3),
                  "pyav": sorted(m for m in sys.modules if m.split(".")[0] == "av")}))
"""


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="module")
def lesson(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "lesson.mp3"
    path.write_bytes(speech_like_mp3(SECONDS))
    return path


def test_the_bot_posts_every_platform_format_without_loading_pyav(lesson: Path) -> None:
    done = subprocess.run([sys.executable, "-c", POST_EVERY_FORMAT, str(lesson), str(SECONDS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)

    assert report["pyav"] == [], "PyAV was loaded into the bot's own process"
    assert report["worker"] is not None and _gone(report["worker"])
    for fmt, codec in (("mp3", "mp3"), ("ogg", "opus"), ("amr", "amr_nb")):
        clips = report["clips"][fmt]
        assert sum(seconds for _, seconds in clips) == pytest.approx(SECONDS, abs=0.2)
        for path, seconds in clips:
            info = probe(Path(path).read_bytes())  # what a player finds in the file
            assert info.codec == codec
            assert info.duration_s == pytest.approx(seconds, abs=0.05)


def test_an_idle_transcoder_exits_and_a_later_post_finds_the_files_made(lesson: Path) -> None:
    speech = Speech(lesson, SECONDS, "edge", "")
    variants = AudioVariants(Worker(doing="transcoding", idle_seconds=0.5))
    first = asyncio.run(variants.clips(speech, AudioFormat.OGG))
    pid = variants.worker.pid if variants.worker else None
    assert pid is not None
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(pid), "the transcoding child stayed after being idle"

    made = [clip.path.stat().st_mtime_ns for clip in first]
    later = AudioVariants(Worker(doing="transcoding", idle_seconds=0.5))
    again = asyncio.run(later.clips(speech, AudioFormat.OGG))
    later.close()
    assert again == first
    assert [clip.path.stat().st_mtime_ns for clip in again] == made, "transcoded twice"


def test_a_members_voice_and_a_speakers_recording_are_taken_without_pyav_in_the_bot(
        lesson: Path, tmp_path: Path) -> None:
    phone = tmp_path / "voice.ogg"
    phone.write_bytes(to_ogg_opus(lesson.read_bytes()))
    kept = tmp_path / "kept.mp3"

    done = subprocess.run([sys.executable, "-c", TAKE_A_VOICE, str(phone), str(kept)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)

    assert report["pyav"] == [], "PyAV was loaded into the bot's own process"
    info = probe(kept.read_bytes())  # what the group's players get
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", 24_000, 1)
    assert info.duration_s == pytest.approx(SECONDS, abs=0.2)
    assert report["seconds"] == pytest.approx(info.duration_s, abs=0.05)
    assert report["recording"] == pytest.approx(SECONDS, abs=0.2)
    assert report["recording_mp3"] == pytest.approx(report["recording"] * 6000, abs=144)


def test_a_members_voice_is_heard_while_a_speakers_long_recording_is_prepared(
        lesson: Path, tmp_path: Path) -> None:
    from lessons.audio_jobs import hear_voice_away, prepare_recording_away
    from lessons.worker import AUDIO, VOICES

    recording = tmp_path / "talk.mp3"
    recording.write_bytes(lesson.read_bytes() * 15)  # five minutes from the speaker's phone
    voice = to_ogg_opus(lesson.read_bytes())
    finished: list[str] = []

    def prepare() -> None:
        prepare_recording_away(recording, max_seconds=600)
        finished.append("recording")

    worker = threading.Thread(target=prepare)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while AUDIO.pid is None and time.monotonic() < deadline:  # the recording is under way
            time.sleep(0.01)
        heard = hear_voice_away(voice, max_seconds=60, refuse_after=120)
        finished.append("voice")
    finally:
        worker.join()
        AUDIO.close()
        VOICES.close()

    assert heard.seconds == pytest.approx(SECONDS, abs=0.2)
    # The member's receipt did not wait for the speaker's recording.
    assert finished == ["voice", "recording"]


def test_audio_the_child_cannot_read_is_refused_as_bad_input_and_the_child_stays_usable(
        lesson: Path) -> None:
    worker = Worker(doing="audio work", idle_seconds=5)
    try:
        with pytest.raises(ValueError, match="undecodable"):
            worker.call("wav_to_mp3", _base64, base64.b64encode(b"not audio at all" * 50).decode())
        first = worker.pid
        mp3 = worker.call("wav_to_mp3", _base64, base64.b64encode(lesson.read_bytes()).decode())
        assert worker.pid == first and not worker.in_process
        assert probe(mp3).duration_s == pytest.approx(SECONDS, abs=0.2)
    finally:
        worker.close()


def _base64(value: object) -> bytes:
    assert isinstance(value, str)
    return base64.b64decode(value)
