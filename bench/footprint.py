"""Start-up time and idle memory with 1,000 groups and 10,000 scheduled posts.

Seeds a fresh database, starts the real bot (`python -m bot`) as a child process, and measures the
time until the web chat answers and the resident memory after it has been idle for a while.
Then starts it again with a pre-render window that covers the scheduled posts, so it renders
every lesson's voice ahead in every profile its groups use, four fifths of them flavoured
(湘, 东北, 陕西, 粤), against a local fake of the speech service; and measures its memory once
that is done, and again once the flavour worker has been idle long enough to exit.
Last it starts the bot once more with one post of each lesson due to five groups, one per
profile, so every voice is transcoded for the web chat, and measures its memory once they are out.
The bar: start-up ≤ 2 s, idle ≤ 120 MB RSS.

Run: .venv/bin/python -m bench.footprint
(YEHUA_FLAVOUR_IN_PROCESS=1 in front shows the old figure: jieba in the bot's own process.)
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, func, select

from bot.core.db import open_database, session
from bot.core.models import Group
from lessons.flavour_worker import IDLE_SECONDS
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.fake_edge import FakeEdge, start_fake_edge

GROUPS = 1000
POSTS = 10_000
LESSONS = ("telecom-fraud", "medical-insurance", "ebike-charging", "village-rules",
           "living-environment")
PROFILES = ("普通话", "湘", "东北", "陕西", "粤")  # round the groups; four are flavoured
PRERENDER_HOURS = 72  # covers every seeded post (two days ahead, spread over 17 hours)
QUIET_S = 3.0  # the speech service unasked this long: the pre-render is over


def seed(url: str) -> None:
    """1,000 web groups; 10,000 one-off posts spread over the coming weeks."""
    engine = open_database(url)
    now = utcnow()
    with session(engine) as db:
        groups = [Group(platform="web", chat_id=f"g{i}", name=f"第{i}屋场",
                        speech_profile=PROFILES[i % len(PROFILES)]) for i in range(GROUPS)]
        db.add_all(groups)
        db.flush()
        for n in range(POSTS // 10):
            targets = [(g.id or 0, g.timezone) for g in groups[(n * 10) % GROUPS:][:10]]
            add_schedule(db, LESSONS[n % len(LESSONS)], targets,
                         run_at=now + timedelta(days=2, minutes=n), now=now)
    engine.dispose()


def post_now(url: str) -> int:
    """One post of each lesson due now, to the first groups (one per profile); how many posts."""
    engine = open_database(url)
    now = utcnow()
    with session(engine) as db:
        groups = db.exec(select(Group).order_by(col(Group.id)).limit(len(PROFILES))).all()
        for slug in LESSONS:
            add_schedule(db, slug, [(g.id or 0, g.timezone) for g in groups], run_at=now, now=now)
    engine.dispose()
    return len(LESSONS) * len(PROFILES)


def wait_until_posted(url: str, posts: int, limit: float = 180.0) -> None:
    """Until `posts` deliveries are recorded as sent."""
    engine = open_database(url)
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            with session(engine) as db:
                sent = db.exec(select(func.count()).select_from(Delivery)
                               .where(Delivery.status == DeliveryStatus.SENT)).one()
            if sent >= posts:
                return
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise SystemExit(f"the posts were not all sent within {limit:.0f} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """The process ids of `pid`'s children (the flavour worker, if one runs)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fake_speech_service() -> Iterator[FakeEdge]:
    """The fake edge-tts service on a loopback port, served from a thread of this process."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    served: list[FakeEdge] = []

    async def serve() -> None:
        async with start_fake_edge() as fake:
            served.append(fake)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise SystemExit("the fake speech service did not start")
    try:
        yield served[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@contextmanager
def running_bot(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """The bot as a child process, and its start-up time until the web chat answers."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bot"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{env['YEHUA_PORT']}/",
                                            timeout=1):
                    break
            except OSError:
                if child.poll() is not None:
                    raise SystemExit("the bot exited during start-up") from None
                time.sleep(0.02)
        yield child, time.perf_counter() - started
    finally:
        child.terminate()
        child.wait(10)


def wait_for_quiet(edge: FakeEdge, limit: float = 180.0) -> None:
    """Until the bot has asked the speech service something and then stopped asking."""
    deadline = time.monotonic() + limit
    seen, since = 0, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if len(edge.requests) != seen:
            seen, since = len(edge.requests), time.monotonic()
        elif seen and time.monotonic() - since >= QUIET_S:
            return
    raise SystemExit(f"the pre-render did not settle within {limit:.0f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, fake_speech_service() as edge:
        data = Path(folder)
        url = f"sqlite:///{data / 'yehua.db'}"
        seed(url)
        env = {**os.environ, "YEHUA_DATA_DIR": str(data), "YEHUA_PORT": str(free_port()),
               "YEHUA_DEMO": "false", "YEHUA_LOG_LEVEL": "WARNING",
               # Nothing reaches the internet: the speech service is the local fake.
               "YEHUA_TTS_ENDPOINT": edge.url, "YEHUA_ESPEAK": "false",
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        with running_bot(env) as (child, up):
            time.sleep(5)
            idle = rss_mb(child.pid)
        env["YEHUA_PRERENDER_HOURS"] = str(PRERENDER_HOURS)
        with running_bot(env) as (child, up_rendering):
            wait_for_quiet(edge)
            time.sleep(5)
            rendered = rss_mb(child.pid)
            workers = children(child.pid)
            worker = sum(rss_mb(pid) for pid in workers)
            deadline = time.monotonic() + IDLE_SECONDS + 15
            while children(child.pid) and time.monotonic() < deadline:
                time.sleep(0.5)
            left = children(child.pid)
            later = rss_mb(child.pid)
        voices = len(list((data / "audio").glob("*.mp3")))
        posts = post_now(url)
        with running_bot(env) as (child, _):
            wait_until_posted(url, posts)
            time.sleep(5)
            posted = rss_mb(child.pid)
    print(f"{GROUPS} groups, {POSTS} scheduled posts (SQLite)")
    print(f"start-up until the web chat answers: {up:.2f} s (bar: ≤ 2 s)")
    print(f"idle resident memory after 5 s:     {idle:.0f} MB (bar: ≤ 120 MB)")
    print(f"pre-render of every scheduled lesson, groups in {'/'.join(PROFILES)}: "
          f"{voices} voices, {len(edge.requests)} speech requests")
    print(f"start-up while pre-rendering:        {up_rendering:.2f} s (bar: ≤ 2 s)")
    print(f"idle 5 s after the pre-render:       {rendered:.0f} MB (bar: ≤ 120 MB); "
          f"flavour worker: {worker:.0f} MB in {len(workers)} process(es)")
    print(f"once the worker has been idle {IDLE_SECONDS:.0f} s:   {later:.0f} MB; "
          f"worker processes left: {len(left)}")
    print(f"idle 5 s after {posts} posts (each lesson to one group per profile, "
          f"voices transcoded for the web chat): {posted:.0f} MB (bar: ≤ 120 MB)")


if __name__ == "__main__":
    main()
