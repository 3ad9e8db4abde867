"""Voice recordings made on the spot with PyAV, as browsers and phones send them."""

from __future__ import annotations

import io
import math
from array import array

import av
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream


def recording(seconds: float, *, container: str = "webm", codec: str = "libopus",
              rate: int = 48_000, loud: float = 0.3, bit_rate: int = 24_000) -> bytes:
    """Speech-like audio: tone bursts of a wandering pitch, 250 ms on and 150 ms off."""
    pcm = _speech_pcm(seconds, rate, loud)
    return _encoded(pcm, container=container, codec=codec, rate=rate, bit_rate=bit_rate)


def spoken_paragraphs(seconds: list[float], *, gap: float = 1.5, container: str = "mp4",
                      codec: str = "aac", rate: int = 48_000, bit_rate: int = 64_000) -> bytes:
    """A speaker reading paragraphs `seconds` long, with `gap` seconds of quiet between them."""
    quiet = bytes(round(gap * rate) * 2)
    pcm = quiet.join(_speech_pcm(length, rate) for length in seconds)
    return _encoded(pcm, container=container, codec=codec, rate=rate, bit_rate=bit_rate)


def _speech_pcm(seconds: float, rate: int, loud: float = 0.3) -> bytes:
    period = round(0.4 * rate)
    pattern = array("h", (
        round(32767 * loud * (math.sin(2 * math.pi * (170 + 40 * i / period) * i / rate)
                              + 0.3 * math.sin(2 * math.pi * 520 * i / rate)) / 1.3)
        if i < 0.25 * rate else 0
        for i in range(period)))
    total = round(seconds * rate)
    return (pattern.tobytes() * (total // period + 1))[: total * 2]


def _encoded(pcm: bytes, *, container: str, codec: str, rate: int, bit_rate: int) -> bytes:
    total = len(pcm) // 2
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        stream.bit_rate = bit_rate
        to_codec = AudioResampler(format=stream.codec_context.format.name, layout="mono",
                                  rate=rate)
        step = stream.codec_context.frame_size or rate // 50
        for pts in range(0, total, step):
            chunk = pcm[pts * 2 : (pts + step) * 2]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
            frame.sample_rate, frame.pts = rate, pts
            frame.planes[0].update(chunk)
            for converted in to_codec.resample(frame):
                muxer.mux(stream.encode(converted))
        muxer.mux(stream.encode(None))
    return out.getvalue()


