"""Transcoding speed: our PyAV functions against the ffmpeg command-line tool, same input.

A ~5-minute speech-like MP3 (espeak-ng reading the sample lessons, or tone bursts without it)
becomes a Telegram OGG/Opus note, WeCom AMR-NB clips and a normalised MP3, once by
`lessons.audio` and once by /usr/bin/ffmpeg with the same codecs, settings and loudness target.
Both run pinned to one CPU. The bar: at least 100x real time on one core.

Run: .venv/bin/python -m bench.speech_transcode [--seconds 300] [--runs 2]
"""

from __future__ import annotations

import argparse
import array
import functools
import math
import os
import random
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lessons.audio import (
    AMR_BIT_RATE,
    MP3_BIT_RATE,
    MP3_BYTES_PER_SECOND,
    MP3_ENCODER_OPTIONS,
    OPUS_BIT_RATE,
    OPUS_ENCODER_OPTIONS,
    loudness,
    probe,
    to_amr_clips,
    to_mp3,
    to_ogg_opus,
    wav_to_mp3,
)
from lessons.library import load_library
from lessons.synthesizers import to_pinyin

LESSONS = Path(__file__).resolve().parent.parent / "lessons" / "library"
FFMPEG = "/usr/bin/ffmpeg"
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"
_FRAME_BYTES = 144
_FRAME_S = 0.024


def speech_like_mp3(seconds: float, *, amplitude: float = 1.0) -> bytes:
    """About `seconds` of edge-style MP3 that sounds like speech: words and pauses."""
    espeak = shutil.which("espeak-ng")
    wav = _espeak(espeak, seconds, amplitude) if espeak else _tone_bursts(seconds, amplitude)
    mp3 = wav_to_mp3(wav)
    while len(mp3) < seconds * MP3_BYTES_PER_SECOND:
        mp3 += mp3
    # Bare CBR frames: cutting at a frame boundary gives exactly the length asked for.
    return mp3[: round(seconds / _FRAME_S) * _FRAME_BYTES]


def _espeak(binary: str, seconds: float, amplitude: float) -> bytes:
    text = "\n".join(lesson.plain_text for lesson in load_library(LESSONS).lessons)
    # espeak-ng at -s 140 says about 4 characters a second; ask for some more.
    script = to_pinyin(text[: round(seconds * 6)])
    return subprocess.run(
        [binary, "-v", "cmn-latn-pinyin", "-s", "140", "-a", str(round(100 * amplitude)),
         "--stdout", "--stdin"],
        input=script.encode(), capture_output=True, check=True, timeout=120,
    ).stdout


def _tone_bursts(seconds: float, amplitude: float, rate: int = 24_000) -> bytes:
    """Voiced bursts of 0.2-2.5 s (a 150 Hz tone with harmonics) between 0.2-0.9 s pauses."""
    cycle = array.array("h", (
        round(amplitude * 9000 * sum(math.sin(2 * math.pi * k * i / 160) / k for k in (1, 2, 3)))
        for i in range(160)
    ))
    rng = random.Random(7)
    samples = array.array("h")
    while len(samples) < seconds * rate:
        samples.extend(cycle * round(rng.uniform(0.2, 2.5) * rate / len(cycle)))
        samples.extend(array.array("h", bytes(2 * round(rng.uniform(0.2, 0.9) * rate))))
    out = BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def _ffmpeg_args(target: str) -> list[str] | None:
    """ffmpeg's arguments for the same output, or None when this ffmpeg cannot make it."""
    common = ["-ac", "1", "-af", LOUDNORM]
    match target:
        case "OGG/Opus":
            return [*common, "-ar", "48000", "-c:a", "libopus", "-b:a", str(OPUS_BIT_RATE),
                    "-application", OPUS_ENCODER_OPTIONS["application"],
                    "-compression_level", OPUS_ENCODER_OPTIONS["compression_level"], "-f", "ogg"]
        case "AMR-NB":
            if not _has_encoder("libopencore_amrnb"):
                return None
            return [*common, "-ar", "8000", "-c:a", "libopencore_amrnb",
                    "-b:a", str(AMR_BIT_RATE), "-f", "amr"]
        case _:
            return [*common, "-ar", "24000", "-c:a", "libmp3lame", "-b:a", str(MP3_BIT_RATE),
                    "-compression_level", MP3_ENCODER_OPTIONS["compression_level"],
                    "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"]


def _has_encoder(name: str) -> bool:
    listing = subprocess.run([FFMPEG, "-hide_banner", "-encoders"], capture_output=True,
                             text=True, check=True).stdout
    return any(line.split()[1:2] == [name] for line in listing.splitlines())


def _best(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def _run_ffmpeg(source: Path, args: list[str], out: Path) -> bytes:
    subprocess.run([FFMPEG, "-v", "error", "-y", "-threads", "1", "-i", str(source), *args,
                    str(out)], check=True)
    return out.read_bytes()


def main() -> None:
    """Print, per target format, our time, ffmpeg's time, their ratio and x real time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--runs", type=int, default=2, help="best of this many runs")
    options = parser.parse_args()
    console = Console(width=max(100, Console().width))
    if hasattr(os, "sched_setaffinity"):
        # One CPU for us and, inherited, for every ffmpeg we start: "on one core".
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    source_mp3 = speech_like_mp3(options.seconds)
    seconds = probe(source_mp3).duration_s
    engine = "espeak-ng speech" if shutil.which("espeak-ng") else "tone bursts"
    console.print(f"input: {seconds:.1f} s of {engine}, {loudness(source_mp3):.1f} LUFS")
    ours: dict[str, Callable[[bytes], bytes | list[bytes]]] = {
        "OGG/Opus": to_ogg_opus, "AMR-NB": to_amr_clips, "MP3": to_mp3,
    }
    table = Table(title=f"speech transcoding on one core, best of {options.runs}")
    for column in ("target", "ours s", "ours ×RT", "ffmpeg s", "ffmpeg ×RT", "ratio",
                   "LUFS ours/ffmpeg"):
        table.add_column(column, justify="left" if column == "target" else "right", no_wrap=True)
    notes = []
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "input.mp3"
        source.write_bytes(source_mp3)
        for target, transcode in ours.items():
            our_s, made = _best(options.runs, functools.partial(transcode, source_mp3))
            first = made[0] if isinstance(made, list) else made
            assert isinstance(first, bytes)
            args = _ffmpeg_args(target)
            if args is None:
                notes.append(f"{target}: {FFMPEG} has no encoder for it, so no comparison.")
                table.add_row(target, f"{our_s:.2f}", f"{seconds / our_s:.0f}", "n/a", "", "",
                              f"{loudness(first):.1f} / -")
                continue
            out = Path(folder) / "out"
            ff_s, ff_out = _best(options.runs, functools.partial(_run_ffmpeg, source, args, out))
            assert isinstance(ff_out, bytes)
            table.add_row(target, f"{our_s:.2f}", f"{seconds / our_s:.0f}", f"{ff_s:.2f}",
                          f"{seconds / ff_s:.0f}", f"{ff_s / our_s:.2f}",
                          f"{loudness(first):.1f} / {loudness(ff_out):.1f}")
    console.print(table)
    for note in [
        *notes,
        "ratio: ffmpeg's time over ours. LUFS: the loudness each reached (the target is -16).",
        "ours: the EBU R128 gain measured by an ebur128 pass, peaks limited, at the source rate.",
        f"ffmpeg: the usual one-pass {LOUDNORM} (dynamic mode, runs at 192 kHz).",
    ]:
        console.print(note)

if __name__ == "__main__":
    main()
