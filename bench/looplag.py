"""Event-loop lag: how long a static file takes while the database is busy.

Starts the real app (OneBot on, a fake NapCat behind) and, from a second process, fetches a
small static file every 15 ms; nothing in that request touches the database, so its time is the
time the event loop kept it waiting. Three phases:
  idle  — nothing else happening;
  lock  — another process holds the write lock for 10 s while members post suggestions (5 a
          second), which must wait for it: SQLite's (BEGIN IMMEDIATE; the posts wait out the
          busy timeout), or on PostgreSQL a lock on the suggestion table that lets readers by;
  load  — bench.ingest's load generator posts 4,000 signed suggestions over 16 connections.
With --database postgresql the app runs on a PostgreSQL server started for the run, and with
--latency-ms through a relay that holds every packet that long each way (a server on another
machine). Target: max lag under 100 ms in every phase.

Run: .venv/bin/python -m bench.looplag [--hold 10] [--events 4000]
                                       [--database postgresql [--latency-ms 10]]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlmodel import func, select

from bench.ingest import FIRST_GROUP, SECRET, SELF_ID, Load, _postgres
from bot.app import ENGINE, SETTINGS, create_app
from bot.core.db import session
from bot.core.models import Group, Suggestion
from bot.settings import Settings
from tests.support.fakes.onebot import TOKEN, fake_napcat

GROUP = FIRST_GROUP  # the lock phase's posts come from the first of bench.ingest's groups
GROUPS = 20  # bench.ingest's load comes from these

PROBE_EVERY_S = 0.015
STATIC = "/static/chat-icon.svg"
TARGET_MS = 100.0


async def _probe(url: str, seconds: float) -> None:
    """GET the static file every PROBE_EVERY_S for `seconds`, printing each one's milliseconds
    as it comes (so a probe stopped early has told what it saw)."""
    async with aiohttp.ClientSession() as http:
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            started = time.perf_counter()
            async with http.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"static file: HTTP {response.status}")
            took = time.perf_counter() - started
            print(f"{took * 1000:.2f}", flush=True)
            await asyncio.sleep(max(0.0, PROBE_EVERY_S - took))


def _event(n: int) -> bytes:
    """A member's suggestion, numbered apart from bench.ingest's."""
    user = 20000 + n % 50
    return json.dumps({
        "self_id": SELF_ID, "user_id": user, "time": int(time.time()),
        "message_id": 5_000_000 + n, "message_type": "group", "sub_type": "normal",
        "post_type": "message", "group_id": GROUP, "font": 14,
        "sender": {"user_id": user, "nickname": f"村民{user}", "role": "member"},
        "message": [{"type": "text", "data": {"text": f"建议 锁住时第{n}条"}}],
        "raw_message": f"建议 锁住时第{n}条"}, ensure_ascii=False).encode()


async def _post(url: str, seconds: float, per_second: int) -> dict[str, int]:
    """Post suggestions at `per_second` for `seconds`, each on its own; answers by status."""
    statuses: dict[str, int] = {}

    async def one(http: aiohttp.ClientSession, n: int) -> None:
        body = _event(n)
        signature = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        async with http.post(url, data=body, headers={
                "Content-Type": "application/json", "X-Self-ID": str(SELF_ID),
                "X-Signature": signature}) as response:
            statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1

    async with aiohttp.ClientSession() as http:
        sent = []
        for n in range(int(seconds * per_second)):
            sent.append(asyncio.create_task(one(http, n)))
            await asyncio.sleep(1 / per_second)
        await asyncio.gather(*sent)
    return statuses


def _hold_lock(where: str, seconds: float) -> None:
    """Take the write lock of `where` (an SQLite file, or a PostgreSQL URL: the suggestion
    table's) and keep it for `seconds`."""
    if where.startswith("postgresql"):
        import psycopg

        with psycopg.connect(where.replace("postgresql+psycopg://", "postgresql://")) as pg:
            pg.execute("LOCK TABLE suggestion IN EXCLUSIVE MODE")
            print("locked", flush=True)
            time.sleep(seconds)
            pg.commit()
        return
    import sqlite3

    db = sqlite3.connect(where, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(seconds)
    db.execute("COMMIT")
    db.close()


async def _child(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.looplag", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _output(process: asyncio.subprocess.Process, stopped: bool = False) -> str:
    out, err = await process.communicate()
    if process.returncode != 0 and not stopped:
        raise SystemExit(f"child failed: {err.decode()[-2000:]}")
    return out.decode()


def _lags(output: str) -> list[float]:
    return [float(line) for line in output.split()]


def onebot_app(folder: Path, napcat_url: str, log_level: str,
               database_url: str = "") -> web.Application:
    """The real app with OneBot on, answering through `napcat_url`, serving the QQ groups the
    loads come from."""
    settings = replace(Settings(data_dir=folder / "data", espeak=False, demo=False,
                                log_level=log_level, database_url=database_url),
                       extra={"YEHUA_ONEBOT_API_ROOT": napcat_url,
                              "YEHUA_ONEBOT_ACCESS_TOKEN": TOKEN,
                              "YEHUA_ONEBOT_SECRET": SECRET})
    app = create_app(settings)
    with session(app[ENGINE]) as db:
        for n in range(GROUPS):
            db.add(Group(platform="onebot", chat_id=str(GROUP + n), name=f"第{n + 1}组"))
    return app


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def _fresh(server_url: str) -> str:
    """A new empty database on the server."""
    from tests.support.pg import fresh_database

    return fresh_database(server_url, "bench")


@asynccontextmanager
async def _reached(url: str, latency_ms: float) -> AsyncIterator[str]:
    """`url` as the app reaches it: through a slow relay when a latency is asked for (the
    lock is held on it directly)."""
    if not latency_ms or not url:
        yield url
        return
    from tests.support.slow_link import slow_link

    async with slow_link(url, latency_ms) as slow:
        yield slow


def _figures(name: str, lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    verdict = "within" if ordered[-1] < TARGET_MS else "OVER"
    return (f"  {name:<5} {len(lags):5d} probes  p50 {statistics.median(ordered):7.1f} ms  "
            f"p99 {p99:7.1f} ms  max {ordered[-1]:7.1f} ms  ({verdict} the {TARGET_MS:.0f} ms "
            f"target)")


async def run(hold: float, events: int, database: str = "sqlite",
               latency_ms: float = 0.0) -> None:
    with tempfile.TemporaryDirectory() as folder, _postgres(database) as server:
        direct = _fresh(server) if server else ""
        async with fake_napcat() as napcat, _reached(direct, latency_ms) as reached:
            app = onebot_app(Path(folder), napcat.url, "ERROR", reached)
            settings = app[SETTINGS]
            runner, url = await _serve(app)
            try:
                where = "SQLite" if not server else "PostgreSQL" + (
                    f" {latency_ms:g} ms away each way" if latency_ms else "")
                await _phases(app, url, settings, hold, events, direct, where)
            finally:
                await runner.cleanup()
                app[ENGINE].dispose()


async def _phases(app: web.Application, url: str, settings: Settings, hold: float,
                  events: int, direct_db: str, where: str) -> None:
    static, inbound = url + STATIC, url + "/onebot/v11/"
    lines = []

    idle = await _child("--probe", static, "--seconds", "5")
    lines.append(_figures("idle", _lags(await _output(idle))))

    probe = await _child("--probe", static, "--seconds", str(hold + 2))
    await asyncio.sleep(0.5)
    lock_on = direct_db or settings.db_url.split("///", 1)[-1]
    locker = await _child("--hold-lock", lock_on, "--seconds", str(hold))
    assert locker.stdout is not None
    await locker.stdout.readline()  # "locked"
    poster = await _child("--post", inbound, "--seconds", str(hold - 1))
    lines.append(_figures("lock", _lags(await _output(probe))))
    statuses = json.loads(await _output(poster))
    await _output(locker)
    posted = sum(statuses.values())
    stored = await _stored_eventually(app, posted)

    probe = await _child("--probe", static, "--seconds", "600")
    load = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.ingest", "--client", inbound, "--events", str(events),
        "--connections", "16", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    seconds = Load.parse(await _output(load)).seconds
    if probe.returncode is None:
        probe.terminate()  # the probe stops with the load: only lag under load counts here
    lines.append(_figures("load", _lags(await _output(probe, stopped=True))))
    lines.append(f"  (load: {events} suggestions in {seconds:.1f} s, {events / seconds:,.0f}/s)")

    print(f"Static file GET every {PROBE_EVERY_S * 1000:.0f} ms from a second process "
          f"(the loop's lag; target max < {TARGET_MS:.0f} ms), database: {where}")
    print("\n".join(lines))
    print(f"  during the {hold:.0f} s lock {posted} suggestions were posted, answered "
          f"{statuses}; {stored} stored once the lock was released")


async def _stored_eventually(app: web.Application, wanted: int, seconds: float = 30) -> int:
    """How many lock-phase suggestions are stored, waiting a while for retries to land."""
    until = time.monotonic() + seconds
    while True:
        with session(app[ENGINE]) as db:
            stored = db.exec(select(func.count()).select_from(Suggestion)
                             .where(Suggestion.text.contains("锁住时"))).one()  # type: ignore[attr-defined]
        if stored >= wanted or time.monotonic() > until:
            return stored
        await asyncio.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=10.0)
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="PostgreSQL only: delay each packet this long each way")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--post", help=argparse.SUPPRESS)
    parser.add_argument("--hold-lock", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        asyncio.run(_probe(args.probe, args.seconds))
    elif args.post:
        print(json.dumps(asyncio.run(_post(args.post, args.seconds, 5))))
    elif args.hold_lock:
        _hold_lock(args.hold_lock, args.seconds)
    else:
        asyncio.run(run(args.hold, args.events, args.database, args.latency_ms))


if __name__ == "__main__":
    main()
