"""Per-platform voice files: decoded back with PyAV and checked as each platform needs them."""

from __future__ import annotations

import io
import itertools
import math
from array import array
from dataclasses import dataclass

import av
import pytest
from av.audio.resampler import AudioResampler

from bench.speech_transcode import speech_like_mp3
from lessons.audio import (
    join_mp3,
    mp3_duration,
    normalise_loudness,
    probe,
    silence_mp3,
    to_amr_clips,
    to_mp3,
    to_ogg_opus,
)

SECONDS = 120.0
FRAME_S = 0.024  # one 24 kHz MP3 frame
TOLERANCE_S = 0.1
WECOM_MAX_S = 55.0
WECOM_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    """What a player gets out of a file."""

    codec: str
    rate: int
    channels: int
    samples: array[int]  # mono s16 at `rate`

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def decode(data: bytes) -> Decoded:
    """Decode every frame of a file with PyAV, as mono 16-bit samples at its own rate."""
    samples: array[int] = array("h")
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        context = stream.codec_context
        resampler = AudioResampler(format="s16", layout="mono", rate=context.sample_rate)
        channels = context.layout.nb_channels
        for frame in container.decode(stream):
            channels = frame.layout.nb_channels
            for mono in resampler.resample(frame):
                samples.frombytes(bytes(mono.planes[0])[: mono.samples * 2])
        return Decoded(context.codec.canonical_name, context.sample_rate, channels, samples)


def rms(samples: array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def seconds_of(decoded: Decoded, start: float, end: float) -> array[int]:
    return decoded.samples[round(start * decoded.rate) : round(end * decoded.rate)]


@pytest.fixture(scope="module")
def speech() -> bytes:
    """Two minutes of speech (espeak-ng reading the sample lessons, or tone bursts)."""
    return speech_like_mp3(SECONDS)


@pytest.fixture(scope="module")
def quiet_speech() -> bytes:
    """Half a minute of speech recorded at a tenth of the level."""
    return speech_like_mp3(30.0, amplitude=0.1)


def test_telegram_voice_note_is_opus_in_ogg_at_48_khz_mono(speech: bytes) -> None:
    ogg = to_ogg_opus(speech)

    decoded = decode(ogg)
    assert ogg[:4] == b"OggS" and b"OpusHead" in ogg[:200]
    assert (decoded.codec, decoded.rate, decoded.channels) == ("opus", 48_000, 1)
    assert abs(decoded.seconds - SECONDS) <= TOLERANCE_S
    assert 16_000 <= len(ogg) * 8 / decoded.seconds <= 32_000  # about 24 kbps


def test_web_voice_is_normalised_mp3_at_24_khz_mono_48_kbps(speech: bytes) -> None:
    mp3 = to_mp3(speech)

    decoded = decode(mp3)
    assert (decoded.codec, decoded.rate, decoded.channels) == ("mp3", 24_000, 1)
    assert abs(decoded.seconds - SECONDS) <= TOLERANCE_S
    assert abs(len(mp3) / 6000 - decoded.seconds) <= FRAME_S  # 48 kbps CBR, no tags


def test_wecom_voice_is_amr_clips_within_55_s_and_2_mb_that_lose_nothing(speech: bytes) -> None:
    clips = to_amr_clips(speech)

    decoded = [decode(clip) for clip in clips]
    assert len(clips) == math.ceil(SECONDS / WECOM_MAX_S)
    for clip, one in zip(clips, decoded, strict=True):
        assert clip.startswith(b"#!AMR\n")
        assert (one.codec, one.rate, one.channels) == ("amr_nb", 8000, 1)
        assert one.seconds <= WECOM_MAX_S
        assert len(clip) <= WECOM_MAX_BYTES
    total = sum(one.seconds for one in decoded)
    assert abs(total - SECONDS) <= TOLERANCE_S * len(clips)


def test_wecom_clips_are_cut_in_pauses_not_in_words(speech: bytes) -> None:
    decoded = [decode(clip) for clip in to_amr_clips(speech)]

    level = rms(array("h", (s for one in decoded for s in one.samples)))
    share = SECONDS / len(decoded)
    for before, after in itertools.pairwise(decoded):
        # Every cut falls within ~8 s of an equal share, in a quiet moment.
        assert abs(before.seconds - share) <= 8.0 * 2 + 0.1
        assert rms(seconds_of(before, before.seconds - 0.06, before.seconds)) < level / 20
        assert rms(seconds_of(after, 0.0, 0.06)) < level / 20


@pytest.mark.parametrize("seconds", [56.0, 111.0, 216.0])
def test_wecom_never_sends_a_near_empty_last_clip(seconds: float) -> None:
    # Cutting each clip at 55 s left 216 s as 53.4 / 52.4 / 55 / 55 / 0.08 s: an empty bubble.
    clips = [decode(clip) for clip in to_amr_clips(speech_like_mp3(seconds))]

    assert len(clips) == math.ceil(seconds / WECOM_MAX_S)
    share = seconds / len(clips)
    assert all(one.seconds <= WECOM_MAX_S for one in clips)
    assert min(one.seconds for one in clips) >= share - 8.0 - 0.1
    assert abs(sum(one.seconds for one in clips) - seconds) <= TOLERANCE_S * len(clips)


def test_wecom_clips_also_keep_under_a_byte_limit(speech: bytes) -> None:
    clips = to_amr_clips(speech, max_bytes=40_000)

    assert all(len(clip) <= 40_000 for clip in clips)
    assert len(clips) >= math.ceil(SECONDS * 1600 / 40_000)  # AMR-NB 12.2 is 1600 bytes/s
    total = sum(probe(clip).duration_s for clip in clips)
    assert abs(total - SECONDS) <= TOLERANCE_S * len(clips)


def test_a_quiet_recording_comes_out_as_loud_as_a_normal_one(
    speech: bytes, quiet_speech: bytes
) -> None:
    quiet_before = decode(quiet_speech)
    quiet_after = decode(normalise_loudness(quiet_speech))
    normal_after = decode(to_mp3(speech))

    assert rms(quiet_after.samples) > 5 * rms(quiet_before.samples)
    level_gap_db = 20 * math.log10(rms(quiet_after.samples) / rms(normal_after.samples))
    assert abs(level_gap_db) < 2.0
    # Raised, but not clipped: peaks stay under -1 dBFS.
    assert max(map(abs, quiet_after.samples)) < 32768 * 10 ** (-1 / 20)
    assert abs(quiet_after.seconds - quiet_before.seconds) <= TOLERANCE_S


def test_joining_pieces_adds_exactly_the_pauses_in_silence(speech: bytes) -> None:
    frames = len(speech) // 144
    pieces = [speech[: frames // 3 * 144], speech[frames // 3 * 144 : frames // 2 * 144],
              speech[frames // 2 * 144 :]]

    joined = join_mp3(pieces, [0.6, 1.0])

    decoded = decode(joined)
    assert decoded.rate == 24_000
    assert abs(decoded.seconds - (SECONDS + 0.6 + 1.0)) <= FRAME_S
    first_end = frames // 3 * FRAME_S
    second_end = first_end + 0.6 + (frames // 2 - frames // 3) * FRAME_S
    level = rms(decoded.samples)
    assert rms(seconds_of(decoded, first_end + 0.05, first_end + 0.55)) < level / 100
    assert rms(seconds_of(decoded, second_end + 0.05, second_end + 0.95)) < level / 100


def test_joining_accepts_pieces_in_other_mp3_formats(speech: bytes) -> None:
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:  # 44.1 kHz stereo, with ID3 and Xing
        stream = container.add_stream("libmp3lame", rate=44_100, layout="stereo")
        resampler = AudioResampler(format="s16p", layout="stereo", rate=44_100)
        with av.open(io.BytesIO(speech[: 10 * 6000]), "r") as source:
            for frame in source.decode(audio=0):
                for converted in resampler.resample(frame):
                    container.mux(stream.encode(converted))
        container.mux(stream.encode(None))

    other, tail = out.getvalue(), silence_mp3(1.0)

    joined = join_mp3([other, tail], [0.6])

    info = probe(joined)
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", 24_000, 1)
    expected = probe(other).duration_s + 0.6 + probe(tail).duration_s
    assert abs(info.duration_s - expected) <= TOLERANCE_S


def test_join_needs_one_pause_between_each_two_pieces(speech: bytes) -> None:
    with pytest.raises(ValueError, match="pauses"):
        join_mp3([speech, speech], [])
    assert join_mp3([speech], []) == speech


def test_probe_describes_what_a_player_decodes(speech: bytes) -> None:
    info = probe(speech)
    decoded = decode(speech)

    assert (info.codec, info.sample_rate, info.channels) == ("mp3", 24_000, 1)
    assert info.duration_s == pytest.approx(decoded.seconds)
    assert info.size == len(speech)
    with pytest.raises(ValueError, match="undecodable"):
        probe(b"this is not audio at all" * 100)


def test_silence_and_speech_are_as_long_as_a_player_finds_them(speech: bytes) -> None:
    gap = silence_mp3(0.6)

    heard = decode(gap)
    assert heard.seconds == pytest.approx(0.6, abs=FRAME_S)
    assert max(map(abs, heard.samples)) == 0, "pure silence, not a click or a hiss"
    for data in (speech, gap, speech + gap + speech):
        assert mp3_duration(data) == pytest.approx(decode(data).seconds, abs=FRAME_S)
