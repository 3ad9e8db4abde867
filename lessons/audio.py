"""Audio transcoding with PyAV: WAV to edge-style MP3, silence, and decoded durations."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator

import av
import av.error
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

log = logging.getLogger(__name__)

MP3_RATE = 24_000
MP3_BIT_RATE = 48_000
# 48 kbps CBR: every second of MP3 is exactly this many bytes (144-byte frames of 24 ms).
MP3_BYTES_PER_SECOND = MP3_BIT_RATE // 8
_FRAME_SAMPLES = 576
# A bare frame stream, like edge-tts sends: no ID3 tag and no Xing/Info frame, so files can be
# concatenated byte-wise and their length stays proportional to their duration.
_MP3_MUXER_OPTIONS = {"id3v2_version": "0", "write_xing": "0", "write_id3v1": "0"}


def _encode_mp3(frames: Iterable[AudioFrame]) -> bytes:
    """Encode audio frames of any rate and layout as 24 kHz mono 48 kbps CBR MP3."""
    out = io.BytesIO()
    resampler = AudioResampler(format="s16p", layout="mono", rate=MP3_RATE)
    with av.open(out, "w", format="mp3", options=_MP3_MUXER_OPTIONS) as container:
        stream = container.add_stream("libmp3lame", rate=MP3_RATE, layout="mono")
        stream.bit_rate = MP3_BIT_RATE
        for frame in frames:
            for resampled in resampler.resample(frame):
                container.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            container.mux(stream.encode(resampled))
        container.mux(stream.encode(None))
    return out.getvalue()


def _decoded_frames(data: bytes) -> Iterator[AudioFrame]:
    """Decode the first audio stream of an in-memory file."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            yield from container.decode(audio=0)
    except av.error.FFmpegError as exc:
        raise ValueError(f"undecodable audio: {exc}") from exc


def wav_to_mp3(wav: bytes) -> bytes:
    """Transcode a WAV file (any rate, any channels) to 24 kHz mono 48 kbps MP3."""
    return _encode_mp3(_decoded_frames(wav))


def mp3_duration(data: bytes) -> float:
    """Return the duration in seconds of an audio file by decoding every frame."""
    samples = 0
    rate = 0
    for frame in _decoded_frames(data):
        samples += frame.samples
        rate = frame.sample_rate
    return samples / rate if rate else 0.0


def silence_mp3(seconds: float) -> bytes:
    """Return `seconds` of silence as 24 kHz mono 48 kbps MP3 frames."""
    total = max(0, round(seconds * MP3_RATE))

    def frames() -> Iterator[AudioFrame]:
        pts = 0
        while pts < total:
            count = min(_FRAME_SAMPLES, total - pts)
            frame = AudioFrame(format="s16p", layout="mono", samples=count)
            frame.sample_rate = MP3_RATE
            frame.pts = pts
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            yield frame
            pts += count

    return _encode_mp3(frames())
