"""Audio with PyAV: edge-style MP3, joining with pauses, loudness, and each platform's format."""

from __future__ import annotations

import ctypes
import functools
import io
import itertools
import logging
import math
import operator
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.filter import Graph

# PyAV (with FFmpeg's libraries, ~16 MB resident) is imported by each function that needs it,
# the first time one runs: a bot that has not transcoded anything yet does not hold it.

log = logging.getLogger(__name__)

MP3_RATE = 24_000
MP3_BIT_RATE = 48_000
# 48 kbps CBR: every second of MP3 is exactly this many bytes (144-byte frames of 24 ms).
MP3_BYTES_PER_SECOND = MP3_BIT_RATE // 8
# A bare frame stream, like edge-tts sends: no ID3 tag and no Xing/Info frame, so files can be
# concatenated byte-wise and their length stays proportional to their duration.
_MP3_MUXER_OPTIONS = {"id3v2_version": "0", "write_xing": "0", "write_id3v1": "0"}
_MP3_FRAME_BYTES = 144
_MP3_FRAME_S = 0.024

# lame -q 5 and opus complexity 7: ~15% faster than the defaults (-q 3, 10), keeping transcoding
# above 100x real time on one core; for 24 kHz speech the difference is not audible.
MP3_ENCODER_OPTIONS = {"compression_level": "5"}
OPUS_ENCODER_OPTIONS = {"application": "voip", "compression_level": "7"}
OPUS_RATE = 48_000
OPUS_BIT_RATE = 24_000
AMR_RATE = 8_000
AMR_BIT_RATE = 12_200
AMR_MAGIC = b"#!AMR\n"
_AMR_FRAME_S = 0.02
_AMR_FRAME_BYTES = 32  # one 12.2 kbps frame: a mode byte and 244 bits
_AMR_BLOCK_BYTES = 160 * 2  # the 20 ms of s16 samples one frame encodes
_CUT_SEARCH_S = 8.0
_CUT_CONTEXT_BLOCKS = 5  # 100 ms each side of a cut must be quiet, so no word is clipped

# EBU R128 targets for speech on phone speakers.
LOUDNESS_LUFS = -16.0
TRUE_PEAK_DB = -1.5
LOUDNESS_RANGE_LU = 11.0
_SILENT_LUFS = -69.0  # ebur128 reports -70 when nothing passes its gate
_MAX_GAIN_DB = 30.0
# Samples are limited 0.5 dB under the true-peak target: peaks between samples run higher.
_PEAK_CEILING_DB = TRUE_PEAK_DB - 0.5
_PASS_FRAME_S = 2.0  # decoded audio is held in frames this long while it is measured

_P = ParamSpec("_P")
_T = TypeVar("_T")


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim; None on C libraries without it (musl, macOS)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        trim = ctypes.CDLL(None).malloc_trim
    except (ValueError, OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    release: Callable[[int], int] = trim
    return release


def release_memory() -> bool:
    """Hand the C heap's free pages back to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def _releasing_memory(func: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run `func`, then give back the heap it freed.

    A transcode holds a whole lesson decoded (14 MB for 2.5 minutes) in whichever worker thread
    runs it, and glibc keeps what such a burst frees in that thread's arena: five lessons to MP3
    took a process idling at 107 MB to 137 MB without this, to 110 MB with it.
    """

    @functools.wraps(func)
    def releasing(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return func(*args, **kwargs)
        finally:
            release_memory()

    return releasing


def _encode_mp3(frames: Iterable[AudioFrame]) -> bytes:
    """Encode audio frames of any rate and layout as 24 kHz mono 48 kbps CBR MP3."""
    import av
    from av.audio.resampler import AudioResampler
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


def _decoded_frames(data: bytes, container_format: str | None = None) -> Iterator[AudioFrame]:
    """Decode the first audio stream of an in-memory file (its format guessed unless given)."""
    import av
    try:
        with av.open(io.BytesIO(data), "r", format=container_format) as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            yield from container.decode(audio=0)
    except av.error.FFmpegError as exc:
        raise ValueError(f"undecodable audio: {exc}") from exc


def wav_to_mp3(wav: bytes) -> bytes:
    """Transcode a WAV file (any rate, any channels) to 24 kHz mono 48 kbps MP3."""
    return _encode_mp3(_decoded_frames(wav))


def mp3_duration(data: bytes) -> float:
    """Return the duration in seconds of an MP3 file (ValueError when it cannot be decoded).

    A bare stream of edge-tts's own frames is measured by its length, so checking what the
    speech service sent does not load PyAV into the bot; anything else is decoded in full.
    """
    if _is_edge_mp3(data):
        return len(data) / MP3_BYTES_PER_SECOND
    samples = 0
    rate = 0
    # Named, not guessed: guessing runs every demuxer's probe, which alone made the process
    # touch another 1.1 MB of libavformat's code.
    for frame in _decoded_frames(data, "mp3"):
        samples += frame.samples
        rate = frame.sample_rate
    return samples / rate if rate else 0.0


# One silent frame as LAME writes it mid-stream: the edge-tts frame header (MPEG-2 layer III,
# 48 kbps, 24 kHz, mono, no CRC), side information for one empty granule that borrows nothing
# from earlier frames, then ancillary filler. It decodes on its own, so a run of it is silence
# of exactly its length, made without an encoder (and without PyAV in the bot's memory).
_SILENT_FRAME = bytes.fromhex("fff364c4" "000000034800000000").ljust(_MP3_FRAME_BYTES, b"U")


def silence_mp3(seconds: float) -> bytes:
    """Return `seconds` of silence (rounded to 24 ms) as 24 kHz mono 48 kbps MP3 frames."""
    return _SILENT_FRAME * max(0, round(seconds / _MP3_FRAME_S))


@dataclass(frozen=True)
class AudioInfo:
    """What decoding an audio file finds: codec, sample rate, channels, duration and size."""

    codec: str
    sample_rate: int
    channels: int
    duration_s: float
    size: int


def probe(data: bytes) -> AudioInfo:
    """Describe an audio file by decoding all of it (ValueError when it cannot be decoded)."""
    import av
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            stream = container.streams.audio[0]
            codec = stream.codec_context.codec.canonical_name
            rate = stream.codec_context.sample_rate
            channels = stream.codec_context.layout.nb_channels
            samples = 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate, channels = frame.sample_rate, frame.layout.nb_channels
    except av.error.FFmpegError as exc:
        raise ValueError(f"undecodable audio: {exc}") from exc
    return AudioInfo(codec, rate, channels, samples / rate if rate else 0.0, len(data))


def join_mp3(parts: Sequence[bytes], pauses: Sequence[float]) -> bytes:
    """Join MP3 pieces with `pauses[i]` seconds of silence after piece i (rounded to 24 ms)."""
    if len(pauses) != max(0, len(parts) - 1):
        raise ValueError(f"{len(parts)} pieces need {max(0, len(parts) - 1)} pauses")
    if any(pause < 0 for pause in pauses):
        raise ValueError("pauses cannot be negative")
    joined = bytearray()
    for index, part in enumerate(parts):
        if index:
            joined += silence_mp3(pauses[index - 1])
        # Headerless CBR frame streams join byte-wise; anything else is re-encoded to match.
        joined += part if _is_edge_mp3(part) else _encode_mp3(_decoded_frames(part))
    return bytes(joined)


@_releasing_memory
def normalise_loudness(mp3: bytes) -> bytes:
    """Bring speech to EBU R128 -16 LUFS, peaks under -1.5 dBTP, as 24 kHz mono 48 kbps MP3."""
    frames = _normalised(mp3, MP3_RATE, "s16p")
    return _encode(frames, "mp3", "libmp3lame", MP3_RATE, MP3_BIT_RATE, MP3_ENCODER_OPTIONS,
                   _MP3_MUXER_OPTIONS)


def loudness(data: bytes) -> float:
    """Integrated EBU R128 loudness of an audio file in LUFS (-70 when silent)."""
    return _loudness(_decoded_frames(data))[0]


def to_mp3(mp3: bytes) -> bytes:
    """The web chat's and OneBot's voice: loudness-normalised 24 kHz mono 48 kbps MP3."""
    return normalise_loudness(mp3)


def any_to_mp3(data: bytes, *, max_seconds: float = 120.0) -> bytes:
    """A recording in any container PyAV reads (WebM, OGG, MP4, WAV, MP3) as the web chat's
    voice: loudness-normalised 24 kHz mono 48 kbps MP3; ValueError if undecodable or too long."""
    import av
    seconds = 0.0
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            # Measure before transcoding and stop early: a long file is refused cheaply.
            for frame in container.decode(audio=0):
                seconds += frame.samples / frame.sample_rate
                if seconds > max_seconds:
                    raise ValueError(f"the recording is longer than {max_seconds:g} s")
    except av.error.FFmpegError as exc:
        raise ValueError(f"undecodable audio: {exc}") from exc
    if not seconds:
        raise ValueError("the recording holds no audio")
    return normalise_loudness(data)


@dataclass(frozen=True)
class VoiceHeard:
    """What a member's voice message holds: the web chat's MP3 of it and its length, or None
    when undecodable or longer than allowed (then whether it was too long); its loudness."""

    mp3: bytes | None
    seconds: float
    too_long: bool
    lufs: float


def hear_voice(data: bytes, *, max_seconds: float, refuse_after: float) -> VoiceHeard:
    """A voice message as the web chat's MP3, measured; refused (no MP3) past `refuse_after`
    seconds or when undecodable, and then `too_long` when it is longer than `max_seconds`."""
    try:
        mp3 = any_to_mp3(data, max_seconds=refuse_after)
    except ValueError:
        try:
            too_long = probe(data).duration_s > max_seconds
        except ValueError:
            too_long = False
        return VoiceHeard(None, 0.0, too_long, -70.0)  # as ebur128 reports silence
    return VoiceHeard(mp3, probe(mp3).duration_s, False, loudness(data))


@_releasing_memory
def to_ogg_opus(mp3: bytes, *, normalise: bool = True) -> bytes:
    """A Telegram voice note: Opus in OGG, 48 kHz mono, 24 kbps, tuned for speech."""
    frames = _normalised(mp3, OPUS_RATE, "s16") if normalise else _converted(mp3, OPUS_RATE, "s16")
    return _encode(frames, "ogg", "libopus", OPUS_RATE, OPUS_BIT_RATE, OPUS_ENCODER_OPTIONS)


@_releasing_memory
def to_amr_clips(
    mp3: bytes,
    *,
    max_seconds: float = 55.0,
    max_bytes: int = 2 * 1024 * 1024,
    normalise: bool = True,
) -> list[bytes]:
    """WeCom voice: AMR-NB 8 kHz 12.2 kbps files within both limits, as few as the limits
    allow and of about the same length, each cut in the quietest moment near its share of
    the audio, together holding all of it."""
    # The encoder's delay adds one frame after the last block of every clip.
    by_time = math.floor(max_seconds / _AMR_FRAME_S + 1e-9)
    limit = min(by_time, (max_bytes - len(AMR_MAGIC)) // _AMR_FRAME_BYTES) - 1
    if limit < 1:
        raise ValueError("the limits leave no room for audio")
    frames = _normalised(mp3, AMR_RATE, "s16") if normalise else _converted(mp3, AMR_RATE, "s16")
    pcm = b"".join(bytes(frame.planes[0])[: frame.samples * 2] for frame in frames)
    blocks = -(-len(pcm) // _AMR_BLOCK_BYTES)
    return [
        _encode(_pcm_frames(pcm[a * _AMR_BLOCK_BYTES : b * _AMR_BLOCK_BYTES], AMR_RATE),
                "amr", "libopencore_amrnb", AMR_RATE, AMR_BIT_RATE, {})
        for a, b in itertools.pairwise(_balanced_cuts(pcm, blocks, limit))
    ]


def _balanced_cuts(pcm: bytes, blocks: int, limit: int) -> list[int]:
    """Block boundaries splitting `blocks` into the fewest clips of at most `limit` blocks.

    Cutting each clip at the limit leaves whatever is over for the last one, which can be a
    few milliseconds: an empty voice bubble. Aiming every cut at an equal share instead keeps
    the clips alike, while the quietest moment within a few seconds of the aim keeps words
    whole; each cut stays where the clips after it can still hold the rest."""
    count = -(-blocks // limit)
    search = min(round(_CUT_SEARCH_S / _AMR_FRAME_S), limit // 2)
    cuts = [0]
    for index in range(1, count):
        aim = round(blocks * index / count)
        lowest, highest = max(cuts[-1] + 1, blocks - (count - index) * limit), cuts[-1] + limit
        first, last = max(lowest, aim - search), min(highest, aim + search)
        if first > last:
            first = last = min(max(aim, lowest), highest)
        cuts.append(_quietest_boundary(pcm, first, last))
    cuts.append(blocks)
    return cuts


def _is_edge_mp3(data: bytes) -> bool:
    count, rest = divmod(len(data), _MP3_FRAME_BYTES)
    # MPEG-2 layer III, 48 kbps, 24 kHz, no padding, mono: the frame edge-tts sends.
    return (
        count > 0 and rest == 0 and data[1] in (0xF2, 0xF3) and data[2] & 0xFE == 0x64
        and data[3] >> 6 == 3 and data[::_MP3_FRAME_BYTES].count(0xFF) == count
    )


def _filtered(
    frames: Iterable[AudioFrame], filters: Sequence[tuple[str, str]]
) -> Iterator[AudioFrame]:
    """Run frames through a chain of FFmpeg audio filters."""
    from av.filter import Graph
    graph: Graph | None = None
    for frame in frames:
        if graph is None:
            graph = Graph()
            chain = [graph.add_abuffer(format=frame.format.name, sample_rate=frame.sample_rate,
                                       layout=frame.layout.name, time_base=frame.time_base)]
            chain += [graph.add(name, args) for name, args in filters]
            chain.append(graph.add("abuffersink"))
            graph.link_nodes(*chain).configure()
        graph.push(frame)
        yield from _drain(graph)
    if graph is not None:
        graph.push(None)
        yield from _drain(graph)


def _drain(graph: Graph) -> Iterator[AudioFrame]:
    import av
    from av.audio.frame import AudioFrame
    while True:
        try:
            frame = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return
        assert isinstance(frame, AudioFrame)
        yield frame


def _loudness(frames: Iterable[AudioFrame]) -> tuple[float, float, float]:
    """Integrated loudness (LUFS), loudness range (LU) and sample peak (dBFS)."""
    found: dict[str, str] = {}
    for frame in _filtered(frames, [("ebur128", "metadata=1:peak=sample")]):
        found = frame.metadata or found
    peak = float(found.get("lavfi.r128.sample_peak", "0"))
    return (float(found.get("lavfi.r128.I", "-70")), float(found.get("lavfi.r128.LRA", "0")),
            20 * math.log10(peak) if peak > 0 else -math.inf)


def _normalised(mp3: bytes, rate: int, sample_format: str) -> Iterator[AudioFrame]:
    """Decoded, loudness-normalised mono frames at `rate` in `sample_format`."""
    frames = list(_rechunked(_decoded_frames(mp3)))
    integrated, loudness_range, peak = _loudness(frames)
    filters: list[tuple[str, str]] = []
    if loudness_range > LOUDNESS_RANGE_LU:
        # Only loudnorm's dynamic mode narrows the range; it runs at 192 kHz, so it is slow.
        log.info("loudness range %.1f LU is wide: normalising with dynamic loudnorm",
                 loudness_range)
        targets = f"I={LOUDNESS_LUFS}:TP={TRUE_PEAK_DB}:LRA={LOUDNESS_RANGE_LU}"
        filters.append(("loudnorm", targets))
    elif integrated > _SILENT_LUFS:
        gain = min(LOUDNESS_LUFS - integrated, _MAX_GAIN_DB)
        filters = _gain_filters(gain, peak)
        if peak + gain > _PEAK_CEILING_DB + 1.0:
            # Limiting many peaks lowers the loudness: measure it once more and make up for it.
            limited, _, _ = _loudness(_filtered(frames, filters))
            filters = _gain_filters(min(gain + LOUDNESS_LUFS - limited, _MAX_GAIN_DB), peak)
    return _filtered(frames, [*filters, *_format_filters(rate, sample_format)])


def _rechunked(frames: Iterable[AudioFrame]) -> Iterator[AudioFrame]:
    """The same samples in frames of _PASS_FRAME_S seconds.

    An MP3 decodes to a frame every 24 ms: 2.5 minutes are 6,250 small buffers, ~19 MB held
    while the passes run and scattered over the heap after. In two-second frames the samples
    take 14 MB in 75 blocks, leave far less of the heap resident afterwards, and each pass
    hands 80 times fewer frames through Python.
    """
    from av.audio.resampler import AudioResampler
    resampler: AudioResampler | None = None
    for frame in frames:
        if resampler is None:  # same format, layout and rate: only the frame size changes
            resampler = AudioResampler(format=frame.format.name, layout=frame.layout.name,
                                       rate=frame.sample_rate,
                                       frame_size=round(frame.sample_rate * _PASS_FRAME_S))
        yield from resampler.resample(frame)
    if resampler is not None:
        yield from resampler.resample(None)


def _gain_filters(gain: float, peak: float) -> list[tuple[str, str]]:
    """Amplify by `gain` dB and keep the peaks under the ceiling (EBU R128's linear mode)."""
    filters = [("volume", f"{gain:.2f}dB")]
    if peak + gain > _PEAK_CEILING_DB:
        limit = 10 ** (_PEAK_CEILING_DB / 20)
        filters.append(("alimiter", f"limit={limit:.4f}:level=false:latency=true"))
    return filters


def _converted(data: bytes, rate: int, sample_format: str) -> Iterator[AudioFrame]:
    return _filtered(_decoded_frames(data), _format_filters(rate, sample_format))


def _format_filters(rate: int, sample_format: str) -> list[tuple[str, str]]:
    return [("aresample", str(rate)),
            ("aformat", f"sample_fmts={sample_format}:channel_layouts=mono")]


def _encode(
    frames: Iterable[AudioFrame], container_format: str, codec: str, rate: int, bit_rate: int,
    options: dict[str, str], muxer_options: dict[str, str] | None = None,
) -> bytes:
    """Encode mono frames already at `rate` in a sample format the codec takes."""
    import av
    from av.audio.stream import AudioStream
    out = io.BytesIO()
    with av.open(out, "w", format=container_format, options=muxer_options) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono", options=options)
        assert isinstance(stream, AudioStream)
        stream.bit_rate = bit_rate
        pts = 0
        for frame in frames:
            # Filter graphs stamp frames in their own time base; the encoder counts samples.
            frame.pts, frame.time_base = pts, Fraction(1, rate)
            pts += frame.samples
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def _pcm_frames(pcm: bytes, rate: int) -> Iterator[AudioFrame]:
    """Mono s16 frames of one second from raw samples."""
    from av.audio.frame import AudioFrame
    step = rate * 2
    for start in range(0, len(pcm), step):
        chunk = pcm[start : start + step]
        frame = AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
        frame.sample_rate = rate
        frame.planes[0].update(chunk)
        yield frame


def _quietest_boundary(pcm: bytes, first: int, last: int) -> int:
    """The block boundary in [first, last] with the least energy around it (the latest on ties)."""
    lo = max(0, first - _CUT_CONTEXT_BLOCKS)
    energy = [_energy(pcm[i * _AMR_BLOCK_BYTES : (i + 1) * _AMR_BLOCK_BYTES])
              for i in range(lo, last + _CUT_CONTEXT_BLOCKS)]
    best, best_score = last, math.inf
    for boundary in range(first, last + 1):
        at = boundary - lo
        score = sum(energy[max(0, at - _CUT_CONTEXT_BLOCKS) : at + _CUT_CONTEXT_BLOCKS])
        if score <= best_score:
            best, best_score = boundary, score
    return best


def _energy(block: bytes) -> int:
    samples = array("h", block[: len(block) // 2 * 2])
    return sum(map(operator.mul, samples, samples))


# --- A speaker's own recording -------------------------------------------------------------

LEVEL_BLOCK_S = 0.05  # silences are found in blocks this long
_MIN_SILENCE_S = 0.3  # a shorter pause is a breath between words, not a paragraph's end
_SILENCE_FLOOR_DB = -90.0


class RecordingRefused(ValueError):
    """A recording that cannot become a lesson's voice; `reason` says which rule it broke."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # "undecodable", "too_long" or "silent"


@dataclass(frozen=True)
class PreparedRecording:
    """A recording as a lesson's voice: edge-style MP3, its length, and its quiet stretches."""

    mp3: bytes
    duration_s: float
    silences: tuple[tuple[float, float], ...]  # (start, end) in seconds, in order


AudioSource = bytes | str | os.PathLike[str] | IO[bytes]


@_releasing_memory
def prepare_recording(source: AudioSource, *, max_seconds: float) -> PreparedRecording:
    """Any recording PyAV reads (MP3, M4A/AAC, AMR, WAV, OGG, WebM) as loudness-normalised
    24 kHz mono 48 kbps edge-style MP3 with its silences; RecordingRefused when it cannot be.

    Nothing is held whole: one pass measures loudness and levels, one more encodes (a third
    only when limiting peaks needs the loudness measured again)."""
    levels = array("h")
    seconds = 0.0
    carry = b""
    block_bytes = round(LEVEL_BLOCK_S * MP3_RATE) * 2

    def measured() -> Iterator[AudioFrame]:
        nonlocal seconds, carry
        for frame in _converted_source(source, [], max_seconds):
            seconds += frame.samples / MP3_RATE
            if seconds > max_seconds:
                raise RecordingRefused("too_long", f"longer than {max_seconds:g} s")
            carry += bytes(frame.planes[0])[: frame.samples * 2]
            whole = len(carry) // block_bytes * block_bytes
            _block_peaks(carry[:whole], block_bytes, levels)
            carry = carry[whole:]
            yield frame

    integrated, _, peak = _loudness(measured())
    _block_peaks(carry, block_bytes, levels)
    if not seconds:
        raise RecordingRefused("undecodable", "no audio in it")
    if integrated <= _SILENT_LUFS:
        raise RecordingRefused("silent", "nothing louder than silence")
    gain = min(LOUDNESS_LUFS - integrated, _MAX_GAIN_DB)
    filters = _gain_filters(gain, peak)
    if peak + gain > _PEAK_CEILING_DB + 1.0:
        limited, _, _ = _loudness(_converted_source(source, filters, max_seconds))
        filters = _gain_filters(min(gain + LOUDNESS_LUFS - limited, _MAX_GAIN_DB), peak)
    mp3 = _encode(_converted_source(source, filters, max_seconds), "mp3", "libmp3lame",
                  MP3_RATE, MP3_BIT_RATE, MP3_ENCODER_OPTIONS, _MP3_MUXER_OPTIONS)
    return PreparedRecording(mp3, len(mp3) / MP3_BYTES_PER_SECOND,
                             tuple(find_silences(levels, LEVEL_BLOCK_S)))


def _converted_source(source: AudioSource, filters: Sequence[tuple[str, str]],
                      max_seconds: float) -> Iterator[AudioFrame]:
    """The source as 24 kHz mono frames, mixed down before anything else is done to them
    (s16 to measure, s16p through `filters` to encode)."""
    import av
    if not isinstance(source, bytes | str | os.PathLike):
        source.seek(0)  # each pass reads the file from its start
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    chain = [("aresample", str(MP3_RATE)), ("aformat", "channel_layouts=mono")]
    chain += [*filters, *_format_filters(MP3_RATE, "s16p" if filters else "s16")]
    try:
        with av.open(opened, "r") as container:
            if not container.streams.audio:
                raise RecordingRefused("undecodable", "no audio stream")
            # A length the file states is believed: a long one is refused before decoding.
            if container.duration is not None and container.duration / 1e6 > max_seconds + 1:
                raise RecordingRefused("too_long", f"longer than {max_seconds:g} s")
            yield from _filtered(container.decode(audio=0), chain)
    except av.error.FFmpegError as exc:
        raise RecordingRefused("undecodable", f"undecodable audio: {exc}") from exc


def _block_peaks(pcm: bytes, block_bytes: int, into: array[int]) -> None:
    """Append the peak of each `block_bytes` of s16 samples (the last may be shorter)."""
    samples = array("h", pcm[: len(pcm) // 2 * 2])
    step = block_bytes // 2
    for start in range(0, len(samples), step):
        block = samples[start : start + step]
        # max and min run in C: a 30-minute recording is 43 million samples.
        into.append(min(32767, max(max(block), -min(block))))


def find_silences(peaks: Sequence[int], block_s: float, *,
                  min_s: float = _MIN_SILENCE_S) -> list[tuple[float, float]]:
    """Stretches of at least `min_s` where the block peaks (s16) stay near the recording's
    noise floor, as (start, end) seconds: the pauses between a speaker's paragraphs."""
    if not peaks:
        return []
    levels = sorted(_db(p) for p in peaks)
    floor = levels[len(levels) // 10]
    speech = levels[len(levels) * 9 // 10]
    # A third of the way up from the floor, and well under speech: room noise stays quiet.
    threshold = min(floor + (speech - floor) / 3, speech - 20.0)
    found: list[tuple[float, float]] = []
    start: int | None = None
    for index, peak in enumerate([*peaks, 32767]):
        if _db(peak) <= threshold:
            start = index if start is None else start
        elif start is not None:
            if (index - start) * block_s >= min_s:
                found.append((start * block_s, min(index, len(peaks)) * block_s))
            start = None
    return found


def _db(peak: int) -> float:
    return max(_SILENCE_FLOOR_DB, 20 * math.log10(peak / 32768)) if peak > 0 else \
        _SILENCE_FLOOR_DB
