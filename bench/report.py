"""Time and memory of exporting 100,000 suggestions to XLSX and CSV.

Seeds a fresh SQLite database (bulk inserts), then runs each export in a child process of its
own so each one's peak memory is its own: once timed, with the process peak RSS
(resource.getrusage ru_maxrss) before and after, and once more under tracemalloc for the peak
of Python allocations (tracemalloc slows allocation down, so that run is not timed).
The bar: 100,000 suggestions to XLSX in ≤ 10 s and ≤ 300 MB.

Run: .venv/bin/python -m bench.report
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.core.db import open_database, session
from bot.core.models import (
    Attendance,
    AttendanceHow,
    Group,
    NightTalk,
    NightTalkStatus,
    Suggestion,
    SuggestionChange,
    SuggestionStatus,
)
from bot.domain.suggestions import CATEGORIES
from bot.reports import ReportFilter, write_csv, write_xlsx

SUGGESTIONS = 100_000
GROUPS = 40
TALKS = 400
PRESENT = 20  # people checked in at each night talk, besides its walk-ins
CHUNK = 10_000
BAR_SECONDS = 10.0
BAR_MB = 300.0
YEAR = ReportFilter(date(2026, 1, 1), date(2026, 12, 31))
TEXTS = ("村口的路灯坏了三个月了，晚上走路不安全，希望尽快修好。",
         "三组的水渠堵了，春耕前要清一清。", "垃圾车一个星期才来一次，夏天太臭了。",
         "后山的路太窄，两台车会不了车。", "医保缴费能不能在手机上交？",
         "=HYPERLINK(\"http://x\",\"点我\")", "+86 138 0000 0000 请回电")
STATUSES = (SuggestionStatus.NEW, SuggestionStatus.ADOPTED, SuggestionStatus.IN_PROGRESS,
            SuggestionStatus.DONE, SuggestionStatus.DONE, SuggestionStatus.DECLINED)


def _changes(number: int, status: SuggestionStatus, at: datetime) -> list[dict[str, Any]]:
    steps = {SuggestionStatus.NEW: (), SuggestionStatus.ADOPTED: (SuggestionStatus.ADOPTED,),
             SuggestionStatus.IN_PROGRESS: (SuggestionStatus.ADOPTED,
                                            SuggestionStatus.IN_PROGRESS),
             SuggestionStatus.DONE: (SuggestionStatus.ADOPTED, SuggestionStatus.DONE),
             SuggestionStatus.DECLINED: (SuggestionStatus.DECLINED,)}[status]
    rows, before = [], SuggestionStatus.NEW
    for day, step in enumerate(steps, 1):
        rows.append({"suggestion_id": number, "from_status": before, "to_status": step,
                     "actor_id": "sec", "actor_name": "李书记", "reply": "",
                     "created_at": at + timedelta(days=day)})
        before = step
    return rows


def seed(url: str) -> None:
    """40 groups in 10 hamlets, 400 held night talks with 20 people checked in and some
    walk-ins each, 100,000 suggestions across 2026 with handlers, deadlines and done dates."""
    rng = random.Random(7)
    engine = open_database(url)
    start = datetime(2025, 12, 31, 16, tzinfo=UTC)  # 2026-01-01 00:00 in Shanghai
    with session(engine) as db:
        groups = [Group(platform="web", chat_id=f"g{i}", name=f"第{i}组", hamlet=f"屋场{i % 10}")
                  for i in range(GROUPS)]
        db.add_all(groups)
        db.flush()
        talks = [NightTalk(group_id=groups[i % GROUPS].id or 0, topic=f"夜话{i}", place="晒谷坪",
                           starts_at=start + timedelta(hours=20 + 21 * i),
                           ends_at=start + timedelta(hours=22 + 21 * i),
                           status=NightTalkStatus.CLOSED, walk_ins=i % 7) for i in range(TALKS)]
        db.add_all(talks)
        db.flush()
        talk_ids = [t.id for t in talks]
        db.add_all([Attendance(night_talk_id=talk_id or 0, person=f"u:u{(n * 37 + k) % 997}",
                               name="村民", how=AttendanceHow.CHECK_IN)
                    for n, talk_id in enumerate(talk_ids) for k in range(PRESENT)])
        group_rows = [(g.id, g.chat_id, g.hamlet) for g in groups]
    categories = list(CATEGORIES)
    with engine.begin() as conn:
        for first in range(1, SUGGESTIONS + 1, CHUNK):
            rows, changes = [], []
            for number in range(first, min(first + CHUNK, SUGGESTIONS + 1)):
                gid, chat, hamlet = group_rows[number % GROUPS]
                at = start + timedelta(seconds=number * 300)
                status = STATUSES[number % len(STATUSES)]
                rows.append({
                    "id": number, "group_id": gid, "hamlet": hamlet, "platform": "web",
                    "chat_id": chat, "message_id": str(number), "author_id": f"u{number % 997}",
                    "author_name": f"村民{number % 997}", "raised_by_id": None,
                    "raised_by_name": "刘话事" if number % 50 == 0 else None,
                    "night_talk_id": talk_ids[number % TALKS] if number % 3 == 0 else None,
                    "text": rng.choice(TEXTS),
                    "voice_path": f"voice-{number}.ogg" if number % 10 == 0 else None,
                    "category": rng.choice(categories), "status": status,
                    "handler_name": None if status == SuggestionStatus.NEW else "李书记",
                    "handler_role": None if status == SuggestionStatus.NEW else "网格员",
                    "due_at": None if status == SuggestionStatus.NEW
                    else at + timedelta(days=7),
                    "done_at": at + timedelta(days=1 + number % 20)
                    if status == SuggestionStatus.DONE else None,
                    "reply": None if status == SuggestionStatus.NEW else "已经安排人去看了。",
                    "merged_into": None, "created_at": at, "updated_at": at})
                changes += _changes(number, status, at)
            conn.execute(insert(Suggestion.__table__), rows)  # type: ignore[attr-defined]
            conn.execute(insert(SuggestionChange.__table__), changes)  # type: ignore[attr-defined]
    engine.dispose()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def export(kind: str, url: str, out: str) -> dict[str, float]:
    """One export in this process: time, peak RSS before and after, then a tracemalloc run."""
    writer = write_xlsx if kind == "xlsx" else write_csv
    engine = open_database(url)
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    writer(engine, YEAR, out, media_base="http://127.0.0.1:8080")
    seconds = time.perf_counter() - started
    rss_after = _peak_rss_mb()
    tracemalloc.start()
    writer(engine, YEAR, out, media_base="http://127.0.0.1:8080")
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": seconds, "rss_before": rss_before, "rss_peak": rss_after,
            "traced": traced, "size": Path(out).stat().st_size / 2**20}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'yehua.db'}"
        started = time.perf_counter()
        seed(url)
        print(f"seeded {SUGGESTIONS:,} suggestions in {time.perf_counter() - started:.1f} s "
              f"(SQLite)")
        print(f"{'format':<7}{'time':>9}{'peak RSS':>11}{'Δ RSS':>9}{'tracemalloc':>13}"
              f"{'file':>9}   bar: ≤ {BAR_SECONDS:.0f} s, ≤ {BAR_MB:.0f} MB")
        for kind in ("xlsx", "csv"):
            out = str(Path(folder) / f"report.{kind}")
            child = subprocess.run([sys.executable, "-m", "bench.report", "--export", kind, url,
                                    out], check=True, capture_output=True, text=True)
            r = json.loads(child.stdout.strip().splitlines()[-1])
            met = r["seconds"] <= BAR_SECONDS and r["rss_peak"] <= BAR_MB
            print(f"{kind:<7}{r['seconds']:>7.2f} s{r['rss_peak']:>8.0f} MB"
                  f"{r['rss_peak'] - r['rss_before']:>6.0f} MB{r['traced']:>10.1f} MB"
                  f"{r['size']:>6.1f} MB   {'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--export":
        print(json.dumps(export(*sys.argv[2:5])))
    else:
        main()
