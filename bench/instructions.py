"""Instructions per inbound event: bench.ingest's load, counted by callgrind instead of timed.

CPU time on a shared machine swings by half from one minute to the next; the number of
instructions a process executes for the same work does not. The real `python -m bot` (settings
as shipped, OneBot on) runs under valgrind's callgrind with counting off; a first load warms it
(new members, caches, the converter's tables); then counting is switched on for a second load of
other messages from the same members, and off again. Beside it, the same two loads into the
bench's floor (signature, JSON, one row committed before the 204) on asyncio's loop. Printed:
instructions per event for each (user space, every thread) and their ratio.

Slow (valgrind runs the bot some fifty times slower): a few minutes for the defaults. Needs
valgrind (`apt install valgrind`).

Run: .venv/bin/python -m bench.instructions [--events 1500] [--warm 300] [--connections 64]
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from argparse import Namespace
from pathlib import Path

from bench.ingest import ROOT, _client, _prepare, _ready, _stop, bot_environment, load_arguments

PATH = "/onebot/v11/"
TOTALS = re.compile(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS")


def _valgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}", sys.executable]


def _control(pid: int, *command: str) -> None:
    subprocess.run(["callgrind_control", *command, str(pid)], check=True, capture_output=True)


def _counted(out: Path) -> int:
    """The instructions of the dumps callgrind wrote (counting was on only for one load)."""
    total = 0
    for dump in out.parent.glob(out.name + ".*"):
        report = subprocess.run(["callgrind_annotate", str(dump)], check=True,
                                capture_output=True, text=True).stdout
        found = TOTALS.search(report)
        total += int(found.group(1).replace(",", "")) if found else 0
    return total


async def _count(process: asyncio.subprocess.Process, out: Path, url: str,
                 args: Namespace) -> float:
    """Warm with one load, count the next: instructions per event of the second."""
    await _client(url, Namespace(**{**vars(args), "events": args.warm, "first": 0}))
    await asyncio.sleep(5)  # the answers to the warm-up go out before counting starts
    _control(process.pid, "-i", "on")
    await _client(url, Namespace(**{**vars(args), "first": 1_000_000}))
    _control(process.pid, "-i", "off")
    _control(process.pid, "-d")
    return _counted(out) / args.events


async def ours(folder: Path, args: Namespace) -> float:
    from tests.support.fakes.onebot import fake_napcat
    from tests.support.loopback import free_port

    data = folder / "data"
    await asyncio.to_thread(_prepare, f"sqlite:///{data / 'yehua.db'}", args.groups)
    port = free_port()
    out = folder / "bot.callgrind"
    async with fake_napcat() as napcat:
        env = bot_environment(data, port, napcat.url, None, [])
        log = folder / "bot.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                *_valgrind(out), "-m", "bot", cwd=folder, env=env, stdout=sink, stderr=sink)
        try:
            await _ready(f"http://127.0.0.1:{port}", process, log)
            return await _count(process, out, f"http://127.0.0.1:{port}{PATH}", args)
        finally:
            await _stop(process)


async def floor(folder: Path, args: Namespace) -> float:
    out = folder / "floor.callgrind"
    process = await asyncio.create_subprocess_exec(
        *_valgrind(out), "-m", "bench.ingest", "--floor", str(folder / "floor.db"),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        port = int(await process.stdout.readline())
        return await _count(process, out, f"http://127.0.0.1:{port}{PATH}", args)
    finally:
        await _stop(process)


async def run(args: Namespace) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        base = await floor(Path(folder), args)
        bot = await ours(Path(folder), args)
    print(f"{args.events} signed OneBot group messages after {args.warm} to warm up "
          f"({args.groups} groups, {args.members} members, {args.connections} connections); "
          "user-space instructions per event, every thread, counted by callgrind")
    print(f"floor (asyncio)  {base / 1000:8,.0f} k")
    print(f"Yehua            {bot / 1000:8,.0f} k   ({bot / base:.1f} × the floor)")


def main() -> None:
    parser = load_arguments(__doc__.splitlines()[0], events=1500)
    parser.add_argument("--warm", type=int, default=300)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
