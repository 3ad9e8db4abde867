"""Inbound QQ messages per second into the real bot, each committed before it is answered.

What users get: the real `python -m bot` process, started in a fresh folder with the settings
as shipped in .env.example (log level INFO included; the demo room off, as it would post a
lesson mid-run) plus what OneBot needs (HTTP-post secret, access token, a fake NapCat for the
bot's own answers). A separate client process posts signed OneBot v11 group messages
(X-Signature, HMAC-SHA1) over many connections, from many groups and members: most are
「建议 …」 suggestions, some plain chatter. Beside it, in the same run and rounds alternating,
the floor: a bare aiohttp + SQLite (WAL) process that checks the signature, parses the JSON and
commits one row before its 204, on the standard event loop and on uvloop. Per run: events/s,
p50/p99 latency, CPU per event of the server process (utime + stime over the load), its peak
RSS (VmHWM), acknowledged vs stored, and the ratio to the floor. Then, those figures taken,
the bot keeps running while the fake NapCat's sends are watched until every stored suggestion's
number is in an answer (group or private): its own receipt (「…是第 N 号…」) or a gathered one
(「收到 N 条建议，编号 12–30、33…」); or until 90 s after the burst (its last acknowledged
event) pass. Printed: how many answers, how many gathered, and when the last needed one went
out after the burst.

--database postgresql runs the bot and the floor on a PostgreSQL server started for the run
(fsync on); --latency-ms puts a relay in front of it that holds every packet that long each way.
--profile FILE records the bot with py-spy during the last round (collapsed stacks) and prints
the functions most often on top.

Run: .venv/bin/python -m bench.ingest [--events 20000] [--connections 64] [--rounds 5]
        [--groups 20] [--members 8658] [--database postgresql [--latency-ms 10]]
        [--profile /tmp/bot.txt] [--env YEHUA_LOG_LEVEL=WARNING]
        [--nonebot /tmp/nb/bin/python]   (NoneBot2 beside it: see bench/nonebot_peer.py)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from string import Formatter
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot import texts

if TYPE_CHECKING:
    from tests.support.fakes.onebot import FakeNapCat, Sent

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789"
SELF_ID = 123456789
FIRST_GROUP = 700_000_000
FIRST_USER = 20_000
CHATTER_EVERY = 7  # one message in seven is plain chatter, not a suggestion
PATH = "/onebot/v11/"
TICKS = os.sysconf("SC_CLK_TCK")
NONEBOT_MODES = {"quiet": "stores only, sends no answer",
                 "answer": "answers each suggestion at once"}
CHATTER = ("大家好", "今晚几点开会？", "收到", "好的，明天见", "[图片]", "谢谢书记")
ANSWER_BAR_S = 60.0  # every suggestion answered within this long after the burst
ANSWER_WAIT_S = 90.0  # how long after the burst the answers are watched


def is_suggestion(n: int) -> bool:
    return n % CHATTER_EVERY != 3


def sender(n: int, groups: int, members: int) -> tuple[int, int]:
    """(group, user) of event `n`: members spread over the groups, each in one group."""
    member = (n * 7919) % members  # a prime stride: every member turns up, in mixed order
    return FIRST_GROUP + member % groups, FIRST_USER + member


def event(n: int, groups: int, members: int) -> bytes:
    """One QQ group message as NapCat posts it: a suggestion, or now and then plain chatter."""
    group, user = sender(n, groups, members)
    text = (f"建议 村口第{n}号路灯坏了，晚上走路看不见" if is_suggestion(n)
            else CHATTER[n % len(CHATTER)])
    return json.dumps({
        "self_id": SELF_ID, "user_id": user, "time": int(time.time()),
        "message_id": 1_000_000 + n, "message_type": "group", "sub_type": "normal",
        "post_type": "message", "group_id": group, "font": 14,
        "sender": {"user_id": user, "nickname": f"村民{user}", "card": "", "role": "member"},
        "message": [{"type": "text", "data": {"text": text}}],
        "raw_message": text}, ensure_ascii=False).encode()


def signature(body: bytes) -> str:
    return "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()


@dataclass(frozen=True)
class Load:
    """What the load generator saw: the whole run, and each request's answer time."""

    seconds: float
    acknowledged: int  # answered 2xx: the platform may forget them
    p50_ms: float
    p99_ms: float
    ended: float  # the last acknowledgement (time.monotonic: one clock for every process)

    def line(self) -> str:
        return f"{self.seconds} {self.acknowledged} {self.p50_ms} {self.p99_ms} {self.ended}"

    @classmethod
    def parse(cls, line: str) -> Load:
        seconds, acknowledged, p50, p99, ended = line.split()
        return cls(float(seconds), int(acknowledged), float(p50), float(p99), float(ended))


@dataclass(frozen=True)
class Answers:
    """The bot's answers to the suggestions, as the fake NapCat took them."""

    messages: int  # every send the platform took (a long answer goes in several)
    gathered: int  # answers naming many numbers
    gathered_pieces: int  # the sends those took
    one_by_one: int  # receipts naming one number
    other: int  # anything else the bot said
    suggestions: int  # stored
    covered: int  # stored and named in an answer
    last_s: float  # the last needed answer, seconds after the burst

    @property
    def missing(self) -> int:
        return self.suggestions - self.covered

    def verdict(self) -> str:
        if self.missing:
            return (f"{self.missing} of {self.suggestions} not answered "
                    f"{ANSWER_WAIT_S:g} s after the burst")
        return f"the last {max(self.last_s, 0.0):.1f} s after the burst"

    def line(self) -> str:
        pieces = (f" in {self.gathered_pieces} pieces"
                  if self.gathered_pieces > self.gathered else "")
        other = f", {self.other} other" if self.other else ""
        return (f"answers: {self.messages} messages ({self.gathered} gathered{pieces}, "
                f"{self.one_by_one} one by one{other}) covering {self.covered}/"
                f"{self.suggestions} suggestions; {self.verdict()} "
                f"(bar: all within {ANSWER_BAR_S:g} s)")


@dataclass(frozen=True)
class Run:
    """One server's run: what the client saw and what the server spent."""

    name: str
    events: int
    load: Load
    cpu_s: float
    peak_mb: float
    suggestions_acked: int
    stored: int
    answers: Answers | None = None  # the bot's, once watched

    @property
    def rate(self) -> float:
        return self.events / self.load.seconds


# --- the client (its own process) ----------------------------------------------------------

async def _load(url: str, events: int, connections: int, groups: int, members: int,
                first: int = 0) -> Load:
    """Post `events` signed events (numbered from `first`) over `connections` connections;
    what it took."""
    bodies = [event(n, groups, members) for n in range(first, first + events)]
    headers = [{"Content-Type": "application/json", "X-Self-ID": str(SELF_ID),
                "X-Signature": signature(b)} for b in bodies]
    next_event = iter(range(events))
    connector = aiohttp.TCPConnector(limit=connections)
    took: list[float] = []
    acked_at: list[float] = []
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            for n in next_event:
                sent = time.perf_counter()
                async with http.post(url, data=bodies[n], headers=headers[n]) as response:
                    await response.read()
                    if response.status >= 300:
                        raise SystemExit(f"event {n}: HTTP {response.status}")
                took.append(time.perf_counter() - sent)
                acked_at.append(time.monotonic())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - started
    took.sort()
    return Load(seconds, len(took), statistics.median(took) * 1000,
                took[min(len(took) - 1, int(len(took) * 0.99))] * 1000, max(acked_at))


# --- the floor (its own process) -----------------------------------------------------------

def floor_row(body: bytes, signature_header: str) -> tuple[int, int, str] | None:
    """What the floor stores of an event (group, user, text); None if its signature is wrong."""
    expected = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    if not hmac.compare_digest(expected, signature_header):
        return None
    payload = json.loads(body)
    text = "".join(s["data"].get("text", "") for s in payload["message"]
                   if s.get("type") == "text")
    return payload["group_id"], payload["user_id"], text


def floor_app(db_path: str) -> web.Application:
    """Check the signature, parse the JSON, insert and commit one row, then answer 204."""
    db = sqlite3.connect(db_path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS event (id INTEGER PRIMARY KEY, grp INTEGER, "
               "usr INTEGER, body TEXT)")

    async def handle(request: web.Request) -> web.Response:
        row = floor_row(await request.read(), request.headers.get("X-Signature", ""))
        if row is None:
            return web.Response(status=401)
        db.execute("INSERT INTO event (grp, usr, body) VALUES (?, ?, ?)", row)
        db.commit()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post(PATH, handle)
    return app


async def floor_postgres_app(db_url: str, connections: int) -> web.Application:
    """The floor on PostgreSQL: one async connection per client connection."""
    import psycopg

    plain = db_url.replace("postgresql+psycopg://", "postgresql://")
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await psycopg.AsyncConnection.connect(plain))
    first = await pool.get()
    await first.execute("CREATE TABLE IF NOT EXISTS event (id SERIAL PRIMARY KEY, "
                        "grp BIGINT, usr BIGINT, body TEXT)")
    await first.commit()
    pool.put_nowait(first)

    async def handle(request: web.Request) -> web.Response:
        row = floor_row(await request.read(), request.headers.get("X-Signature", ""))
        if row is None:
            return web.Response(status=401)
        connection = await pool.get()
        try:
            await connection.execute("INSERT INTO event (grp, usr, body) VALUES (%s, %s, %s)",
                                     row)
            await connection.commit()
        finally:
            pool.put_nowait(connection)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post(PATH, handle)
    return app


async def _serve_floor(database: str, connections: int) -> None:
    if database.startswith("postgresql"):
        app = await floor_postgres_app(database, connections)
    else:
        app = floor_app(database)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# --- the parent: processes, rounds, figures ------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def shipped_settings() -> dict[str, str]:
    """Every YEHUA_ setting .env.example ships with a value."""
    found = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        key, eq, value = line.partition("=")
        if eq and key.startswith("YEHUA_") and value:
            found[key] = value
    return found


async def _client(url: str, args: argparse.Namespace) -> Load:
    command = [sys.executable, "-m", "bench.ingest", "--client", url, "--events",
               str(args.events), "--connections", str(args.connections), "--groups",
               str(args.groups), "--members", str(args.members),
               "--first", str(args.first)]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode:
        raise SystemExit(f"the client failed: {err.decode()[-2000:]}")
    return Load.parse(out.decode().strip())


async def _measured(name: str, pid: int, url: str, args: argparse.Namespace,
                    count_stored: Any, strict: bool = True) -> Run:
    before = cpu_seconds(pid)
    load = await _client(url, args)
    cpu = cpu_seconds(pid) - before
    stored = await asyncio.to_thread(count_stored)
    suggestions = sum(1 for n in range(args.events) if is_suggestion(n))
    acked = suggestions if load.acknowledged == args.events else -1
    if stored < acked and strict:
        raise SystemExit(f"{name}: {acked - stored} acknowledged suggestions were not stored")
    return Run(name, args.events, load, cpu, peak_mb(pid), acked, stored)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def floor(folder: Path, args: argparse.Namespace, uvloop: bool,
                db_url: str | None) -> Run:
    """The bare handler in its own process; its figures."""
    database = db_url or str(folder / ("floor-uvloop.db" if uvloop else "floor.db"))
    command = [sys.executable, "-m", "bench.ingest", "--floor", database,
               "--connections", str(args.connections)] + (["--uvloop"] if uvloop else [])
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        port = int(await process.stdout.readline())
        url = f"http://127.0.0.1:{port}{PATH}"

        def stored() -> int:
            if db_url:
                import psycopg
                with psycopg.connect(db_url.replace("postgresql+psycopg://",
                                                    "postgresql://")) as db:
                    row = db.execute("SELECT count(*) FROM event WHERE body LIKE '建议%%'"
                                     ).fetchone()
            else:
                with sqlite3.connect(database) as db:
                    row = db.execute("SELECT count(*) FROM event WHERE body LIKE '建议%'"
                                     ).fetchone()
            return int(row[0]) if row else 0

        return await _measured("floor" + (" (uvloop)" if uvloop else ""), process.pid, url,
                               args, stored)
    finally:
        await _stop(process)


def _prepare(db_url: str, groups: int) -> None:
    """A migrated database that serves the QQ groups (as `yehua groups add` would)."""
    from bot.core.db import open_database, session
    from bot.core.models import Group
    from bot.domain.points import PointsRules
    from bot.domain.points_items import set_up_village

    engine = open_database(db_url)
    with session(engine) as db:
        for n in range(groups):
            group = Group(platform="onebot", chat_id=str(FIRST_GROUP + n), name=f"第{n + 1}组")
            db.add(group)
            db.flush()
            set_up_village(db, group, PointsRules())  # the shipped YEHUA_POINTS_* values
    engine.dispose()


def _count_suggestions(db_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as db:
            return int(db.execute(text("SELECT count(*) FROM suggestion")).scalar_one())
    finally:
        engine.dispose()


def _suggestion_numbers(db_url: str) -> dict[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as db:
            return {number: int(chat) for number, chat in db.execute(
                text("SELECT id, chat_id FROM suggestion"))}
    finally:
        engine.dispose()


def _pattern(template: str, fields: dict[str, str], last: str) -> re.Pattern[str]:
    """A text of bot/texts.py as a pattern, up to its field `last` (a line the platform
    shortens keeps its start); fields not in `fields` match anything."""
    parts: list[str] = []
    for literal, name, _spec, _conversion in Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            break
        parts.append(fields.get(name, ".*?"))
        if name == last:
            break
    return re.compile("".join(parts))


_NUMBER = {"number": r"(?P<number>\d+)"}
RECEIPTS = tuple(_pattern(t, _NUMBER, "number") for t in (
    texts.CMD_SUGGESTION_RAISED, texts.CMD_SUGGESTION_RAISED_VOICE,
    texts.CMD_SUGGESTION_RAISED_FOR))
GATHERED = _pattern(texts.REPLY_GATHERED, {"count": r"\d+", "numbers": "(?P<numbers>[0-9–、]+)"},
                    "numbers")
SPREAD = _pattern(texts.REPLY_GATHERED_SPREAD, {"count": r"\d+", "first": r"(?P<first>\d+)",
                                                "last": r"(?P<last>\d+)"}, "last")


def numbers_in(ranges: str) -> list[int]:
    """The numbers of 「12–30、33、35–48」, as the gathered answer writes them."""
    found: list[int] = []
    for item in ranges.strip("、").split("、"):
        first, _dash, last = item.partition("–")
        found += range(int(first), int(last or first) + 1)
    return found


@dataclass(frozen=True)
class Said:
    """One answer as members read it: the sends it took glued, out with the last of them."""

    text: str
    at: float
    pieces: int
    group: int  # 0: a private answer


def said(sent: list[Sent]) -> list[Said]:
    """The answers in what the fake took: a long answer is cut after a 「、」 into sends in a
    row to one group, each next one starting with a number."""
    out: list[Said] = []
    latest: dict[int, int] = {}  # group -> its latest answer in `out`
    for send in sent:
        text = send.text
        previous = latest.get(send.group_id)
        if previous is not None and text[:1].isdigit():
            head = out[previous]
            out[previous] = Said(head.text + text, send.at, head.pieces + 1, head.group)
            continue
        latest[send.group_id] = len(out)
        out.append(Said(text, send.at, 1, send.group_id))
    return out


def answered(sent: list[Sent], numbers: dict[int, int], burst_end: float) -> Answers:
    """Which stored suggestions (number -> group) the answers in `sent` name, and when the
    last needed one went out. A gathered line naming only a span covers the group's numbers
    in it."""
    first: dict[int, float] = {}  # number -> when an answer first named it
    gathered = gathered_pieces = one_by_one = other = 0
    for answer in said(sent):
        match = GATHERED.search(answer.text)
        spread = SPREAD.search(answer.text)
        if match or spread:
            gathered += 1
            gathered_pieces += answer.pieces
            if match:
                named = numbers_in(match["numbers"])
            else:
                assert spread is not None
                first_n, last_n = int(spread["first"]), int(spread["last"])
                named = [n for n, group in numbers.items()
                         if group == answer.group and first_n <= n <= last_n]
        else:
            receipt = next((m for p in RECEIPTS if (m := p.search(answer.text))), None)
            if receipt is None:
                other += 1
                continue
            one_by_one += 1
            named = [int(receipt["number"])]
        for number in named:
            if number in numbers:
                first.setdefault(number, answer.at)
    return Answers(len(sent), gathered, gathered_pieces, one_by_one, other, len(numbers),
                   len(first), max(first.values(), default=burst_end) - burst_end)


async def _answers(napcat: FakeNapCat, db_url: str, burst_end: float) -> Answers:
    """Watch what the bot sends until every stored suggestion is answered, or
    ANSWER_WAIT_S after the burst."""
    numbers = await asyncio.to_thread(_suggestion_numbers, db_url)
    while True:
        answers = answered(napcat.sent, numbers, burst_end)
        if not answers.missing or time.monotonic() >= burst_end + ANSWER_WAIT_S:
            return answers
        await asyncio.sleep(0.5)


async def _ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    await _ready_at(url + "/static/chat-icon.svg", process, log)


async def _ready_at(url: str, process: asyncio.subprocess.Process, log: Path,
                    any_answer: bool = False) -> None:
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                said = await asyncio.to_thread(log.read_text)
                raise SystemExit(f"the bot stopped at start: {said[-3000:]}")
            with suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200 or any_answer:
                        return
            await asyncio.sleep(0.2)
    raise SystemExit("the bot did not start within two minutes")


@asynccontextmanager
async def _profiled(pid: int, target: str | None) -> AsyncIterator[None]:
    """py-spy recording `pid` while the block runs, when a target file is given."""
    if not target:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    process = await asyncio.create_subprocess_exec(
        str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
        "--nonblocking", "-o", target, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        await asyncio.sleep(1)  # py-spy attaches
        yield
    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()


def bot_environment(data: Path, port: int, napcat_url: str, db_url: str | None,
                    extra: list[str]) -> dict[str, str]:
    """`python -m bot`'s environment: the shipped settings, OneBot on behind the fake NapCat
    at `napcat_url`, and the `extra` settings (YEHUA_X=value)."""
    from tests.support.fakes.onebot import TOKEN

    env = {k: v for k, v in os.environ.items() if not k.startswith("YEHUA_")}
    env |= shipped_settings() | {
        "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost",
        "YEHUA_DATA_DIR": str(data), "YEHUA_PORT": str(port), "YEHUA_DEMO": "false",
        "YEHUA_DATABASE_URL": db_url or "", "YEHUA_ONEBOT_API_ROOT": napcat_url,
        "YEHUA_ONEBOT_ACCESS_TOKEN": TOKEN, "YEHUA_ONEBOT_SECRET": SECRET}
    return env | dict(pair.split("=", 1) for pair in extra)


async def ours(folder: Path, args: argparse.Namespace, db_url: str | None,
               profile: str | None) -> Run:
    """The real bot process, OneBot on; its figures."""
    from tests.support.fakes.onebot import fake_napcat
    from tests.support.loopback import free_port

    data = folder / "data"
    url = db_url or f"sqlite:///{data / 'yehua.db'}"
    await asyncio.to_thread(_prepare, url, args.groups)
    port = free_port()
    async with fake_napcat() as napcat:
        env = bot_environment(data, port, napcat.url, db_url, args.env)
        log = folder / "bot.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=folder, env=env, stdout=out, stderr=out)
        try:
            await _ready(f"http://127.0.0.1:{port}", process, log)
            async with _profiled(process.pid, profile):
                run = await _measured("Yehua", process.pid, f"http://127.0.0.1:{port}{PATH}",
                                      args, lambda: _count_suggestions(url))
            # Measured: the bot runs on, sending its answers, while they are watched.
            run = replace(run, answers=await _answers(napcat, url, run.load.ended))
        finally:
            await _stop(process)
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    counts = [line.split(": ", 1)[-1] for line in lines if "in the last minute" in line]
    print(f"    the bot wrote {len(lines)} log lines; counts: {'; '.join(counts)}")
    if run.answers is not None:
        print(f"    {run.answers.line()}")
    return run


async def nonebot(folder: Path, args: argparse.Namespace) -> Run:
    """NoneBot2 with its OneBot adapter (bench/nonebot_peer.py) in its own process."""
    from tests.support.fakes.onebot import TOKEN, fake_napcat
    from tests.support.loopback import free_port

    database = folder / "nonebot.db"
    port = free_port()
    async with fake_napcat() as napcat:
        log = folder / "nonebot.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                args.nonebot, str(ROOT / "bench" / "nonebot_peer.py"), str(database),
                str(port), SECRET, TOKEN, str(SELF_ID), napcat.url, args.nonebot_answers,
                cwd=folder,
                stdout=out, stderr=out)
        try:
            await _ready_at(f"http://127.0.0.1:{port}{PATH}", process, log, any_answer=True)
            suggestions = sum(1 for n in range(args.events) if is_suggestion(n))

            def stored() -> int:
                # NoneBot answers before it stores: count once the rows stop coming.
                last, deadline = -1, time.monotonic() + 120
                while time.monotonic() < deadline:
                    with sqlite3.connect(database) as db:
                        row = db.execute("SELECT count(*) FROM suggestion").fetchone()
                    count = int(row[0]) if row else 0
                    if count >= suggestions or count == last:
                        return count
                    last = count
                    time.sleep(1)
                return last

            return await _measured("NoneBot2", process.pid, f"http://127.0.0.1:{port}{PATH}",
                                   args, stored, strict=False)
        finally:
            await _stop(process)


@contextmanager
def _postgres(database: str) -> Iterator[str | None]:
    """A PostgreSQL server for the run (fsync on), or None for SQLite."""
    if database == "sqlite":
        yield None
        return
    from tests.support.pg import postgres_server

    with postgres_server(fsync=True) as url:
        yield url


@asynccontextmanager
async def _database(server: str | None, latency_ms: float) -> AsyncIterator[str | None]:
    """A new empty database on the server (through a slow relay if asked), or None."""
    if server is None:
        yield None
        return
    from tests.support.pg import fresh_database

    url = fresh_database(server, "bench")
    if not latency_ms:
        yield url
        return
    from tests.support.slow_link import slow_link

    async with slow_link(url, latency_ms) as slow:
        yield slow


def _row(runs: list[Run], floor_rate: float) -> str:
    rate = statistics.median(run.rate for run in runs)
    cpu_ms = statistics.median(run.cpu_s / run.events * 1000 for run in runs)
    return (f"{runs[0].name:<16} {rate:>8,.0f}/s  p50 "
            f"{statistics.median(r.load.p50_ms for r in runs):6.1f} ms  p99 "
            f"{statistics.median(r.load.p99_ms for r in runs):6.1f} ms  CPU/event "
            f"{cpu_ms:.3f} ms  peak RSS {max(r.peak_mb for r in runs):5.0f} MB  "
            f"acked/stored {min(r.suggestions_acked for r in runs)}/"
            f"{min(r.stored for r in runs)}  ratio {rate / floor_rate:.2f}")


async def run(args: argparse.Namespace) -> None:
    floors: list[Run] = []
    fast: list[Run] = []
    bots: list[Run] = []
    peers: list[Run] = []  # NoneBot2, when asked for
    with _postgres(args.database) as server:
        for n in range(args.rounds):  # alternated: a busy moment of the machine hits all alike
            with tempfile.TemporaryDirectory() as name:
                folder = Path(name)
                async with _database(server, args.latency_ms) as url:
                    floors.append(await floor(folder, args, False, url))
                async with _database(server, args.latency_ms) as url:
                    fast.append(await floor(folder, args, True, url))
                last = n == args.rounds - 1
                async with _database(server, args.latency_ms) as url:
                    bots.append(await ours(folder, args, url, args.profile if last else None))
                if args.nonebot:
                    peers.append(await nonebot(folder, args))
            print(f"  round {n + 1}:")
            for runs in (floors, fast, bots, peers):
                if not runs:
                    continue
                print("    " + _row(runs[-1:], floors[-1].rate), flush=True)
    where = "SQLite (WAL)" if server is None else "PostgreSQL" + (
        f" {args.latency_ms:g} ms away each way" if args.latency_ms else "")
    load = os.getloadavg()
    print(f"\n{args.events} signed OneBot group messages ({args.groups} groups, "
          f"{args.members} members, 6 in 7 suggestions) over {args.connections} connections, "
          f"from a separate process; median of {args.rounds} rounds; {where}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    extra = "".join(", " + pair for pair in args.env)
    print(f"Yehua: python -m bot, settings as shipped (.env.example){extra}; every event "
          f"answered only after its commit")
    floor_rate = statistics.median(run.rate for run in floors)
    for runs in (floors, fast, bots, peers):
        if runs:
            print(_row(runs, floor_rate))
    fast_rate = statistics.median(run.rate for run in fast)
    rate = statistics.median(run.rate for run in bots)
    print(f"ratio to the floor on uvloop: {rate / fast_rate:.2f}  "
          f"(bars: ≥ 0.50 of the floor, CPU/event ≤ 0.2 ms, p99 ≤ 50 ms)")
    # CPU per event follows the machine's speed from minute to minute; against the floor's in
    # the same round it does much less.
    spent = [bot.cpu_s / bot.events / (base.cpu_s / base.events)
             for bot, base in zip(bots, floors, strict=True)]
    print(f"CPU per event, Yehua's to the floor's in the same round: "
          f"{statistics.median(spent):.2f} × (rounds {min(spent):.2f}–{max(spent):.2f} ×)")
    watched = [run.answers for run in bots if run.answers is not None]
    if watched:
        worst = max(watched, key=lambda a: (a.missing, a.last_s))
        print(f"answers, worst of {len(watched)} rounds: {worst.covered}/{worst.suggestions} "
              f"suggestions answered, {worst.verdict()} (bar: all within {ANSWER_BAR_S:g} s)")
    if peers:
        peer_rate = statistics.median(run.rate for run in peers)
        print(f"Yehua / NoneBot2: {rate / peer_rate:.1f}× (bar: ≥ 10×); NoneBot2 answers "
              f"each POST before its matcher stores the suggestion (SQLite, its own "
              f"settings as shipped; its matcher {NONEBOT_MODES[args.nonebot_answers]})")
    if args.profile:
        print(f"\nprofile of the last round ({args.profile}); most often on top:")
        for line in top_of(Path(args.profile)):
            print("  " + line)


def top_of(raw: Path, count: int = 15) -> list[str]:
    """The functions most often on top of the stack in a py-spy raw (collapsed) profile."""
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _space, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        frames = stack.split(";")
        if frames and frames[0].startswith("process"):
            frames = frames[1:]
        own[frames[-1] if frames else "?"] += int(samples)
        total += int(samples)
    return [f"{100 * n / max(total, 1):5.1f}%  {name}" for name, n in own.most_common(count)]


def load_arguments(description: str, events: int) -> argparse.ArgumentParser:
    """A bench's command line with the load's shape: how many events, over how many
    connections, from how many groups and members."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--members", type=int, default=8658)
    return parser


def main() -> None:
    parser = load_arguments(__doc__.splitlines()[0], events=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="PostgreSQL only: delay each packet this long each way")
    parser.add_argument("--profile", help="record the bot's last round with py-spy to this file")
    parser.add_argument("--env", action="append", default=[], metavar="YEHUA_X=value",
                        help="a setting on top of the shipped ones (for comparisons)")
    parser.add_argument("--nonebot", metavar="PYTHON",
                        help="also run NoneBot2 (bench/nonebot_peer.py) with this interpreter")
    parser.add_argument("--nonebot-answers", choices=("quiet", "answer"), default="quiet",
                        help="NoneBot2's matcher only stores (quiet) or also answers at once")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--uvloop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(asyncio.run(_load(args.client, args.events, args.connections, args.groups,
                                args.members, args.first)).line())
    elif args.floor:
        if args.uvloop:
            import uvloop

            uvloop.run(_serve_floor(args.floor, args.connections))
        else:
            asyncio.run(_serve_floor(args.floor, args.connections))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
