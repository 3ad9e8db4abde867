"""Flavouring runs in a short-lived child process, so the bot itself never holds jieba."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lessons.dialect import REGIONS, flavour, flavour_pairs, flavour_sentences
from lessons.flavour_worker import FlavourWorker
from lessons.library import load_library

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "lessons" / "library"
WHY = ("大家说说，为什么要搞垃圾分类？",)
WHY_XIANG = ("大家讲讲，何解要搞垃圾分类？",)
WHAT = ("今天想问问大家：咱们小组还差什么？",)
WHAT_XIANG = ("今日想问问大家：我们小组还差么子？",)

# Every shipped lesson in every flavoured profile, as JSON: {slug: {profile: [text, pairs]}}.
SHIPPED_FLAVOURED = """
import json, sys
from pathlib import Path
from lessons.dialect import REGIONS, flavour, flavour_pairs
from lessons.library import load_library
out = {lesson.slug: {p: [flavour(lesson.plain_text, p), flavour_pairs(lesson.plain_text, p)]
                     for p in REGIONS}
       for lesson in load_library(Path(sys.argv[1])).lessons}
print(json.dumps({"jieba": "jieba" in sys.modules, "lessons": out}))
"""

# A bot-like process: flavour a lesson in every profile, report its own memory and modules.
FLAVOUR_AND_MEASURE = """
import json, sys
from lessons.dialect import REGIONS, flavour, flavour_pairs
from lessons.flavour_worker import FlavourWorker

worker = FlavourWorker()  # as the bot makes its own

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

text = "乡亲们，大家好！今天跟大家说说防溺水。今天就讲到这里，谢谢大家，咱们明天再见！"
before = rss_mb()
spoken = {p: flavour(text, p, worker.flavour) for p in REGIONS}
pairs = flavour_pairs(text, "湘", worker.flavour)
print(json.dumps({"jieba": sorted(m for m in sys.modules if m.split(".")[0] == "jieba"),
                  "grew_mb": rss_mb() - before, "worker": worker.pid,
                  "spoken": spoken["湘"], "pair": pairs[1]}))
"""


def _run(script: str, *args: str, in_process: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "YEHUA_FLAVOUR_IN_PROCESS"}
    if in_process:
        env["YEHUA_FLAVOUR_IN_PROCESS"] = "1"
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def worker() -> Iterator[FlavourWorker]:
    """A worker of our own, idle for half a second before its child exits."""
    own = FlavourWorker(flavour_sentences, idle_seconds=0.5)
    yield own
    own.close()


def test_the_worker_flavours_every_shipped_lesson_exactly_as_in_process(
    worker: FlavourWorker,
) -> None:
    reference = _run(SHIPPED_FLAVOURED, str(LIBRARY), in_process=True)
    assert reference["jieba"] is True  # the reference really did the work in its own process
    through_worker = {
        lesson.slug: {p: [flavour(lesson.plain_text, p, worker.flavour),
                          [list(pair) for pair in
                           flavour_pairs(lesson.plain_text, p, worker.flavour)]]
                      for p in REGIONS}
        for lesson in load_library(LIBRARY).lessons
    }
    assert not worker.in_process
    assert through_worker == reference["lessons"]


def test_a_process_that_flavours_never_loads_jieba_itself() -> None:
    report = _run(FLAVOUR_AND_MEASURE, in_process=False)
    assert report["spoken"] == (
        "乡亲们，大家好！今日跟大家讲讲防溺水。今日就讲到这里，谢谢大家，我们明日再见！")
    assert report["pair"] == ["今天跟大家说说防溺水。", "今日跟大家讲讲防溺水。"]
    assert isinstance(report["worker"], int)
    assert report["jieba"] == []
    grew = report["grew_mb"]
    assert isinstance(grew, float) and grew < 40  # jieba in-process adds about 130 MB


def test_an_idle_worker_exits_and_the_next_call_starts_another(worker: FlavourWorker) -> None:
    assert worker.flavour("changsha", WHY) == WHY_XIANG
    first = worker.pid
    assert first is not None
    deadline = time.monotonic() + 10
    while worker.pid is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.pid is None
    assert _gone(first)
    assert worker.flavour("changsha", WHAT) == WHAT_XIANG
    assert worker.pid not in (None, first)


def test_a_killed_worker_is_replaced_and_the_call_still_answers(worker: FlavourWorker) -> None:
    worker.idle_seconds = 60
    assert worker.flavour("changsha", WHY) == WHY_XIANG
    killed = worker.pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    assert worker.flavour("changsha", WHAT) == WHAT_XIANG
    assert worker.pid not in (None, killed)
    assert not worker.in_process


@pytest.mark.parametrize(
    "command", [(sys.executable, "-c", "pass"), ("/nonexistent/python", "-m", "x")],
    ids=["exits-at-once", "cannot-start"],
)
def test_a_worker_that_cannot_run_falls_back_to_this_process_and_says_so_once(
    command: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    broken = FlavourWorker(flavour_sentences, command=command)
    with caplog.at_level(logging.WARNING, logger="lessons.worker"):
        assert broken.flavour("changsha", WHY) == WHY_XIANG
        assert broken.flavour("changsha", WHAT) == WHAT_XIANG
    assert broken.in_process and broken.pid is None
    warnings = [r for r in caplog.records if r.name == "lessons.worker"]
    assert len(warnings) == 1
    assert "flavouring in the bot's own process" in warnings[0].getMessage()
