"""Inbound suggestions per second, each committed before the platform is answered.

The real app receives QQ group messages 「建议 …」 as OneBot v11 HTTP POST events (signed with
HMAC-SHA1), stores each suggestion (member, suggestion, points) and answers 204; its own
answers go to a fake NapCat behind. The floor it is compared with: a bare aiohttp handler
inserting one row per request into the same database and committing before it answers, in the
same run — SQLite (WAL), or with --database postgresql a PostgreSQL server started for the run
(fsync and synchronous_commit on, as in production), the bare handler then holding one async
connection per client connection. --latency-ms puts a relay in front of PostgreSQL that holds
every packet that long each way, as a server on another machine would. The load comes from a
second process over loopback. Bar: at least half the bare handler's rate.

Run: .venv/bin/python -m bench.ingest [--events 4000] [--connections 16] [--rounds 3]
                                      [--database postgresql [--latency-ms 10]]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import func, select

from bot.app import ENGINE, INGEST, create_app
from bot.core.db import session
from bot.core.models import Group, Suggestion
from bot.settings import Settings
from tests.support.fakes.onebot import SECRET, SELF_ID, TOKEN, fake_napcat

GROUP = 987654321


def event(n: int) -> bytes:
    """One QQ group message raising a suggestion, as NapCat posts it."""
    return json.dumps({
        "self_id": SELF_ID, "user_id": 10000 + n % 500, "time": int(time.time()),
        "message_id": 1_000_000 + n, "message_type": "group", "sub_type": "normal",
        "post_type": "message", "group_id": GROUP, "font": 14,
        "sender": {"user_id": 10000 + n % 500, "nickname": f"村民{n % 500}", "role": "member"},
        "message": [{"type": "text", "data": {"text": f"建议 村口第{n}号路灯坏了"}}],
        "raw_message": f"建议 村口第{n}号路灯坏了"}, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Load:
    """What the load generator saw: the whole run, and each request's answer time."""

    seconds: float
    acknowledged: int  # answered 2xx: the platform may forget them
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        return f"{self.seconds} {self.acknowledged} {self.p50_ms} {self.p99_ms}"

    @classmethod
    def parse(cls, line: str) -> Load:
        seconds, acknowledged, p50, p99 = line.split()
        return cls(float(seconds), int(acknowledged), float(p50), float(p99))


async def _load(url: str, events: int, connections: int) -> Load:
    """Post `events` signed events over `connections` connections; what it took."""
    bodies = [event(n) for n in range(events)]
    headers = [{"Content-Type": "application/json", "X-Self-ID": str(SELF_ID),
                "X-Signature": "sha1=" + hmac.new(SECRET.encode(), b, hashlib.sha1).hexdigest()}
               for b in bodies]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(events):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=connections)
    took: list[float] = []
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                sent = time.perf_counter()
                async with http.post(url, data=bodies[n], headers=headers[n]) as response:
                    if response.status >= 300:
                        raise SystemExit(f"event {n}: HTTP {response.status}")
                took.append(time.perf_counter() - sent)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - started
    took.sort()
    return Load(seconds, len(took), statistics.median(took) * 1000,
                took[min(len(took) - 1, int(len(took) * 0.99))] * 1000)


def _run_load(url: str, events: int, connections: int) -> Load:
    command = [sys.executable, "-m", "bench.ingest", "--client", url, "--events", str(events),
               "--connections", str(connections)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return Load.parse(done.stdout.strip())


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def bare(folder: Path, events: int, connections: int) -> Load:
    """The floor: insert and commit one row per request, then answer 204."""
    db = sqlite3.connect(folder / "bare.db", check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE event (id INTEGER PRIMARY KEY, body TEXT)")

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        db.execute("INSERT INTO event (body) VALUES (?)", (body,))
        db.commit()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/onebot/v11/", handle)
    runner, url = await _serve(app)
    try:
        load = await asyncio.to_thread(_run_load, url + "/onebot/v11/", events, connections)
        stored = db.execute("SELECT count(*) FROM event").fetchone()[0]
    finally:
        await runner.cleanup()
        db.close()
    _check(load, stored)
    return load


async def bare_postgres(db_url: str, events: int, connections: int) -> Load:
    """The floor on PostgreSQL: one async connection per client connection; insert and commit
    one row per request, then answer 204."""
    import psycopg

    plain = db_url.replace("postgresql+psycopg://", "postgresql://")
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await psycopg.AsyncConnection.connect(plain))
    first = await pool.get()
    await first.execute("CREATE TABLE event (id SERIAL PRIMARY KEY, body TEXT)")
    await first.commit()
    pool.put_nowait(first)

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        connection = await pool.get()
        try:
            await connection.execute("INSERT INTO event (body) VALUES (%s)", (body,))
            await connection.commit()
        finally:
            pool.put_nowait(connection)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/onebot/v11/", handle)
    runner, url = await _serve(app)
    try:
        load = await asyncio.to_thread(_run_load, url + "/onebot/v11/", events, connections)
        cursor = await first.execute("SELECT count(*) FROM event")
        row = await cursor.fetchone()
        stored = row[0] if row else 0
    finally:
        await runner.cleanup()
        while not pool.empty():
            await pool.get_nowait().close()
    _check(load, stored)
    return load


def _check(load: Load, stored: int) -> None:
    """Every acknowledged event must be stored."""
    print(f"    acknowledged {load.acknowledged}, stored {stored}")
    if stored < load.acknowledged:
        raise SystemExit(f"{load.acknowledged - stored} acknowledged events were not stored")


def onebot_app(folder: Path, napcat_url: str, log_level: str,
               database_url: str = "") -> web.Application:
    """The real app with OneBot on, answering through `napcat_url`, and its one QQ group."""
    settings = replace(Settings(data_dir=folder / "data", espeak=False, demo=False,
                                log_level=log_level, database_url=database_url),
                       extra={"YEHUA_ONEBOT_API_ROOT": napcat_url,
                              "YEHUA_ONEBOT_ACCESS_TOKEN": TOKEN,
                              "YEHUA_ONEBOT_SECRET": SECRET})
    app = create_app(settings)
    with session(app[ENGINE]) as db:
        db.add(Group(platform="onebot", chat_id=str(GROUP), name="枫树村QQ群"))
    return app


async def ours(folder: Path, events: int, connections: int, database_url: str = "") -> Load:
    """The real app, OneBot on, suggestions committed before each 204."""
    async with fake_napcat() as napcat:
        app = onebot_app(folder, napcat.url, "WARNING", database_url)
        runner, url = await _serve(app)
        try:
            load = await asyncio.to_thread(_run_load, url + "/onebot/v11/", events,
                                           connections)
            with session(app[ENGINE]) as db:
                stored = db.exec(select(func.count()).select_from(Suggestion)).one()
            batches = app[INGEST].suggestions.batches
        finally:
            await runner.cleanup()
            app[ENGINE].dispose()
    _check(load, stored)
    print(f"    {events} suggestions committed in {batches} transactions "
          f"({events / max(batches, 1):.1f} per commit)")
    return load


@contextmanager
def _postgres(database: str) -> Iterator[str | None]:
    """A PostgreSQL server for the run (fsync on), or None for SQLite."""
    if database == "sqlite":
        yield None
        return
    from tests.support.pg import postgres_server

    with postgres_server(fsync=True) as url:
        yield url


def _fresh(server_url: str) -> str:
    """A new empty database on the server: each round starts from nothing."""
    from tests.support.pg import fresh_database

    return fresh_database(server_url, "bench")


@asynccontextmanager
async def _reached(url: str, latency_ms: float) -> AsyncIterator[str]:
    """`url` as the bench reaches it: through a slow relay when a latency is asked for."""
    if not latency_ms or not url:
        yield url
        return
    from tests.support.slow_link import slow_link

    async with slow_link(url, latency_ms) as slow:
        yield slow


def _figures(name: str, loads: list[Load], events: int) -> str:
    rate = statistics.median(events / load.seconds for load in loads)
    return (f"{name}: {rate:,.0f} events/s, p50 {statistics.median(x.p50_ms for x in loads):.1f}"
            f" ms, p99 {statistics.median(x.p99_ms for x in loads):.1f} ms")


async def run(events: int, connections: int, rounds: int, database: str = "sqlite",
              latency_ms: float = 0.0) -> None:
    floors: list[Load] = []
    loads: list[Load] = []
    with _postgres(database) as server:
        for n in range(rounds):  # alternated, so a busy moment of the machine hits both alike
            with tempfile.TemporaryDirectory() as folder:
                if server is None:
                    floors.append(await bare(Path(folder), events, connections))
                    loads.append(await ours(Path(folder), events, connections))
                else:
                    async with _reached(_fresh(server), latency_ms) as url:
                        floors.append(await bare_postgres(url, events, connections))
                    async with _reached(_fresh(server), latency_ms) as url:
                        loads.append(await ours(Path(folder), events, connections, url))
            print(f"  round {n + 1}: bare {events / floors[-1].seconds:,.0f}/s, "
                  f"Yehua {events / loads[-1].seconds:,.0f}/s")
    where = "SQLite" if server is None else "PostgreSQL" + (
        f" {latency_ms:g} ms away each way" if latency_ms else "")
    print(f"{events} QQ suggestions over {connections} connections, load from a second process "
          f"(median of {rounds} rounds), on {where}")
    print(_figures(f"bare aiohttp + {where} insert/commit", floors, events))
    print(_figures("Yehua (verify, store member + suggestion + points, commit, then 204)",
                   loads, events))
    floor = statistics.median(events / load.seconds for load in floors)
    rate = statistics.median(events / load.seconds for load in loads)
    print(f"ratio: {rate / floor:.2f} (bar: ≥ 0.50; NoneBot2 + OneBot managed 386/s here); "
          f"every event answered only after its commit, all acknowledged ones stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="PostgreSQL only: delay each packet this long each way")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(asyncio.run(_load(args.client, args.events, args.connections)).line())
    else:
        asyncio.run(run(args.events, args.connections, args.rounds, args.database,
                        args.latency_ms))


if __name__ == "__main__":
    main()
