"""Start-up time and idle memory with 1,000 groups and 10,000 scheduled posts.

Seeds a fresh database, starts the real bot (`python -m bot`) as a child process, and measures the
time until the web chat answers and the resident memory after it has been idle for a while.
The bar (DESIGN.md §5): start-up ≤ 2 s, idle ≤ 120 MB RSS.

Run: .venv/bin/python -m bench.footprint
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from bot.db import open_database, session
from bot.models import Group
from scheduler.dbtypes import utcnow
from scheduler.schedules import add_schedule

GROUPS = 1000
POSTS = 10_000
LESSONS = ("telecom-fraud", "medical-insurance", "ebike-charging", "village-rules",
           "living-environment")


def seed(url: str) -> None:
    """1,000 web groups; 10,000 one-off posts spread over the coming weeks."""
    engine = open_database(url)
    now = utcnow()
    with session(engine) as db:
        groups = [Group(platform="web", chat_id=f"g{i}", name=f"第{i}屋场") for i in range(GROUPS)]
        db.add_all(groups)
        db.flush()
        for n in range(POSTS // 10):
            targets = [(g.id or 0, g.timezone) for g in groups[(n * 10) % GROUPS:][:10]]
            add_schedule(db, LESSONS[n % len(LESSONS)], targets,
                         run_at=now + timedelta(days=2, minutes=n), now=now)
    engine.dispose()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        seed(f"sqlite:///{data / 'yehua.db'}")
        port = free_port()
        env = {**os.environ, "YEHUA_DATA_DIR": str(data), "YEHUA_PORT": str(port),
               "YEHUA_DEMO": "false", "YEHUA_LOG_LEVEL": "WARNING"}
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "bot"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                        break
                except OSError:
                    if child.poll() is not None:
                        raise SystemExit("the bot exited during start-up") from None
                    time.sleep(0.02)
            up = time.perf_counter() - started
            time.sleep(5)
            idle = rss_mb(child.pid)
        finally:
            child.terminate()
            child.wait(10)
    print(f"{GROUPS} groups, {POSTS} scheduled posts (SQLite)")
    print(f"start-up until the web chat answers: {up:.2f} s (bar: ≤ 2 s)")
    print(f"idle resident memory after 5 s:     {idle:.0f} MB (bar: ≤ 120 MB)")


if __name__ == "__main__":
    main()
