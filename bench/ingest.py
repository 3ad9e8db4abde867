"""Inbound suggestions per second, each committed before the platform is answered.

The real app receives QQ group messages 「建议 …」 as OneBot v11 HTTP POST events (signed with
HMAC-SHA1), stores each suggestion (member, suggestion, points) and answers 204; its own
answers go to a fake NapCat behind. The floor it is compared with: a bare aiohttp handler
inserting one row per request into SQLite (WAL) and committing, in the same run. The load comes
from a second process over loopback. Bar: at least half the bare handler's rate.

Run: .venv/bin/python -m bench.ingest [--events 4000] [--connections 16] [--rounds 3]
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
from dataclasses import replace
from pathlib import Path

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


async def _load(url: str, events: int, connections: int) -> float:
    """Post `events` signed events over `connections` connections; the seconds it took."""
    bodies = [event(n) for n in range(events)]
    headers = [{"Content-Type": "application/json", "X-Self-ID": str(SELF_ID),
                "X-Signature": "sha1=" + hmac.new(SECRET.encode(), b, hashlib.sha1).hexdigest()}
               for b in bodies]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(events):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                async with http.post(url, data=bodies[n], headers=headers[n]) as response:
                    if response.status >= 300:
                        raise SystemExit(f"event {n}: HTTP {response.status}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return time.perf_counter() - started


def _run_load(url: str, events: int, connections: int) -> float:
    command = [sys.executable, "-m", "bench.ingest", "--client", url, "--events", str(events),
               "--connections", str(connections)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def bare(folder: Path, events: int, connections: int) -> float:
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
        seconds = await asyncio.to_thread(_run_load, url + "/onebot/v11/", events, connections)
    finally:
        await runner.cleanup()
        db.close()
    return events / seconds


def onebot_app(folder: Path, napcat_url: str, log_level: str) -> web.Application:
    """The real app with OneBot on, answering through `napcat_url`, and its one QQ group."""
    settings = replace(Settings(data_dir=folder / "data", espeak=False, demo=False,
                                log_level=log_level),
                       extra={"YEHUA_ONEBOT_API_ROOT": napcat_url,
                              "YEHUA_ONEBOT_ACCESS_TOKEN": TOKEN,
                              "YEHUA_ONEBOT_SECRET": SECRET})
    app = create_app(settings)
    with session(app[ENGINE]) as db:
        db.add(Group(platform="onebot", chat_id=str(GROUP), name="枫树村QQ群"))
    return app


async def ours(folder: Path, events: int, connections: int) -> float:
    """The real app, OneBot on, suggestions committed before each 204."""
    async with fake_napcat() as napcat:
        app = onebot_app(folder, napcat.url, "WARNING")
        runner, url = await _serve(app)
        try:
            seconds = await asyncio.to_thread(_run_load, url + "/onebot/v11/", events,
                                              connections)
            with session(app[ENGINE]) as db:
                stored = db.exec(select(func.count()).select_from(Suggestion)).one()
            batches = app[INGEST].suggestions.batches
        finally:
            await runner.cleanup()
    if stored != events:
        raise SystemExit(f"only {stored} of {events} suggestions were stored")
    print(f"  {events} suggestions committed in {batches} transactions "
          f"({events / max(batches, 1):.1f} per commit)")
    return events / seconds


async def run(events: int, connections: int, rounds: int) -> None:
    floors, rates = [], []
    for n in range(rounds):  # alternated, so a busy moment of the machine hits both alike
        with tempfile.TemporaryDirectory() as folder:
            floors.append(await bare(Path(folder), events, connections))
            rates.append(await ours(Path(folder), events, connections))
        print(f"  round {n + 1}: bare {floors[-1]:,.0f}/s, Yehua {rates[-1]:,.0f}/s")
    floor, rate = statistics.median(floors), statistics.median(rates)
    print(f"{events} QQ suggestions over {connections} connections, load from a second process "
          f"(median of {rounds} rounds)")
    print(f"bare aiohttp + SQLite insert/commit: {floor:,.0f} events/s")
    print(f"Yehua (verify, store member + suggestion + points, commit, then 204): "
          f"{rate:,.0f} events/s")
    print(f"ratio: {rate / floor:.2f} (bar: ≥ 0.50; NoneBot2 + OneBot managed 386/s here)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(asyncio.run(_load(args.client, args.events, args.connections)))
    else:
        asyncio.run(run(args.events, args.connections, args.rounds))


if __name__ == "__main__":
    main()
