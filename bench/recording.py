"""A speaker's recording, upload to ready-for-every-platform: ours against the ffmpeg CLI.

A 5-minute phone-style recording (M4A: AAC, 44.1 kHz stereo, 128 kbps, of espeak-ng reading
the sample lessons, or tone bursts without it) is made with PyAV. Ours, in a fresh process
as the bot does it: `bot.domain.recordings.voiced` (decode, loudness-normalise, find the pauses,
cue the paragraphs) and then the per-platform files `lessons.variants` makes, both in the audio
worker's child (OGG/Opus for Telegram,
MP3 for the web chat and QQ, AMR clips for WeCom). The floor: /usr/bin/ffmpeg doing the same
transcodes (one normalised MP3 from the upload, then the three formats from it). Seconds and
peak RSS of each.

Run: .venv/bin/python -m bench.recording [--seconds 300]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from rich.console import Console
from rich.table import Table

from bench.speech_transcode import FFMPEG, _ffmpeg_args, speech_like_mp3

SLUG = "ebike-charging"


def phone_m4a(seconds: float) -> bytes:
    """About `seconds` of speech as a phone's recorder saves it: AAC in M4A, 44.1 kHz stereo."""
    source = speech_like_mp3(seconds)
    out = io.BytesIO()
    with av.open(io.BytesIO(source), "r") as reader, av.open(out, "w", format="mp4") as writer:
        stream = writer.add_stream("aac", rate=44_100, layout="stereo")
        assert isinstance(stream, AudioStream)
        stream.bit_rate = 128_000
        resampler = AudioResampler(format="fltp", layout="stereo", rate=44_100,
                                   frame_size=1024)
        for frame in reader.decode(audio=0):
            for converted in resampler.resample(frame):
                writer.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            writer.mux(stream.encode(converted))
        writer.mux(stream.encode(None))
    return out.getvalue()


TIME = "/usr/bin/time"  # GNU time: a child's own peak RSS (%M, in KB)


def _status_mb(field: str) -> float:
    """VmRSS or VmHWM of this process: unlike ru_maxrss, VmHWM starts afresh at exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ffmpeg(args: list[str]) -> float:
    """Run ffmpeg; its peak RSS in MB."""
    done = subprocess.run([TIME, "-f", "%M", FFMPEG, "-v", "error", "-y", *args],
                          check=True, capture_output=True, text=True)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def child(path: Path, audio_dir: Path) -> None:
    """Ours, as the bot does it: store-ready recording, then every platform's file, both in
    the audio worker's child."""
    import asyncio

    from bot.domain.recordings import voiced
    from bot.settings import Settings
    from lessons.library import load_library
    from lessons.speech import Speech, write_atomic
    from lessons.variants import AudioFormat, AudioVariants
    from lessons.worker import AUDIO

    lesson = load_library(Settings().lessons_dir).get(SLUG)
    assert lesson is not None
    before = _status_mb("VmRSS")
    start = time.perf_counter()
    voice = voiced(path, lesson)
    prepared = time.perf_counter() - start
    mp3 = audio_dir / f"{voice.audio_hash}.mp3"
    write_atomic(mp3, voice.mp3)
    speech = Speech(mp3, voice.duration_s, "recording", voice.cues, normalised=True)
    variants = AudioVariants(AUDIO)
    clips = {str(fmt): len(asyncio.run(variants.clips(speech, fmt))) for fmt in AudioFormat}
    total = time.perf_counter() - start
    AUDIO.close()  # so its peak is counted among this process's children
    print(json.dumps({"prepared_s": prepared, "total_s": total, "duration_s": voice.duration_s,
                      "paragraphs": voice.paragraphs, "clips": clips,
                      "baseline_mb": before, "peak_mb": _status_mb("VmHWM"),
                      "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def floor(path: Path, folder: Path) -> tuple[float, float]:
    """The ffmpeg CLI: normalised MP3 from the upload, then each platform's format from it."""
    start = time.perf_counter()
    normalised = folder / "normalised.mp3"
    mp3_args = _ffmpeg_args("MP3")
    assert mp3_args is not None
    peaks = [_ffmpeg(["-i", str(path), *mp3_args, str(normalised)])]
    for target, suffix in (("OGG/Opus", "ogg"), ("MP3", "mp3"), ("AMR-NB", "amr")):
        args = _ffmpeg_args(target)
        if args is not None:
            peaks.append(_ffmpeg(["-i", str(normalised), *args, str(folder / f"out.{suffix}")]))
    return time.perf_counter() - start, max(peaks)


def main() -> None:
    """Print ours and the ffmpeg floor: seconds and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--child", nargs=2, metavar=("FILE", "AUDIO_DIR"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(Path(options.child[0]), Path(options.child[1]))
        return
    console = Console(width=max(100, Console().width))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        upload = folder / "recording.m4a"
        upload.write_bytes(phone_m4a(options.seconds))
        audio_dir = folder / "audio"
        audio_dir.mkdir()
        console.print(f"input: {options.seconds:.0f} s, M4A/AAC 44.1 kHz stereo, "
                      f"{upload.stat().st_size / 1e6:.1f} MB")
        done = subprocess.run([sys.executable, "-m", "bench.recording", "--child", str(upload),
                               str(audio_dir)], check=True, capture_output=True, text=True)
        ours = json.loads(done.stdout.strip().splitlines()[-1])
        ff_s, ff_mb = floor(upload, folder)
    table = Table(title="upload → ready for every platform")
    for column in ("", "seconds", "× real time", "peak RSS MB"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("ours (recording + OGG, MP3, AMR clips)", f"{ours['total_s']:.2f}",
                  f"{options.seconds / ours['total_s']:.0f}",
                  f"{ours['peak_mb']:.0f} (+{ours['peak_mb'] - ours['baseline_mb']:.0f}); "
                  f"audio child {ours['worker_mb']:.0f}")
    table.add_row("  of which the recording itself", f"{ours['prepared_s']:.2f}",
                  f"{options.seconds / ours['prepared_s']:.0f}", "")
    table.add_row("ffmpeg CLI floor", f"{ff_s:.2f}", f"{options.seconds / ff_s:.0f}",
                  f"{ff_mb:.0f}")
    console.print(table)
    console.print(f"ours: {ours['duration_s']:.1f} s stored, {ours['paragraphs']} paragraphs "
                  f"cued, clips per format {ours['clips']}; peak RSS: the bot-like process (in "
                  "brackets, above itself after imports) and the audio child that decodes and "
                  "encodes. ffmpeg: the largest of its runs' peak RSS.")


if __name__ == "__main__":
    main()
