"""The bot's messages into a 500-member group over one lesson day.

The real app serves its web chat; 500 members' browsers are played over WebSockets while a
clock moved by hand replays the day: the lesson is posted at the start, then over 13 hours 300
members say 「已听」 (most in the first hours), 40 raise a suggestion, 20 ask for their points
(「积分」) and the secretary decides on 10 suggestions. The bot's timers fire as the day's
clock passes them. Counted: the bot's messages that a member who only watches receives, i.e.
what the whole group sees (an answer meant for one member alone reaches nobody else).
Bar: under 60.

Run: .venv/bin/python -m bench.group_noise [--seed 11]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import Group, Member, Role
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import running
from tests.support.fake_edge import start_fake_edge

# The same day replayed through the code before answers went private and listening was tallied
# (commit 5856ded): every 「已听」, suggestion and 「积分」 was answered in the group.
BEFORE = 372
BAR = 60
ROOM = "village"
MEMBERS, LISTENS, SUGGESTIONS, POINTS, DECISIONS = 500, 300, 40, 20, 10
DAY = 13 * 60  # minutes from the lesson to the last message of the day
SECRETARY = ("user-secretary-01", "王书记")
WAIT = 30.0


@dataclass(frozen=True, order=True)
class Said:
    """One chat line of the day: when (minutes after the lesson), who, what."""

    minute: float
    member: int  # -1: the secretary
    text: str


def day(seed: int) -> list[Said]:
    """The day's chat lines in time order: listens early, the rest through the day."""
    rng = random.Random(seed)
    people = rng.sample(range(MEMBERS), MEMBERS)
    lines = [Said(min(rng.expovariate(1 / 150) + 2, DAY), who, rng.choice(("已听", "听完了")))
             for who in people[:LISTENS]]
    things = ("路灯", "水渠", "垃圾", "公路")
    lines += [Said(rng.uniform(5, DAY * 0.75), rng.randrange(MEMBERS),
                   f"建议 第{n + 1}件事：村里{rng.choice(things)}要管一管")
              for n in range(SUGGESTIONS)]
    lines += [Said(rng.uniform(5, DAY), rng.randrange(MEMBERS), "积分")
              for _ in range(POINTS)]
    lines += [Said(DAY * 0.8 + n * 10, -1, f"/采纳 {n + 1} 好，下个月办" if n % 3
                   else f"/不采纳 {n + 1} 暂时办不了") for n in range(DECISIONS)]
    return sorted(lines)


def prepare(app: web.Application) -> None:
    with session(app[ENGINE]) as db:
        group = Group(platform="web", chat_id=ROOM, name="枫树村大群", hamlet="上屋场")
        db.add(group)
        db.flush()
        db.add(Member(group_id=group.id or 0, user_id=SECRETARY[0],
                      display_name=SECRETARY[1], role=Role.SECRETARY))


async def hello(ws: aiohttp.ClientWebSocketResponse, user_id: str, name: str,
                heard: list[dict[str, Any]]) -> None:
    """Say who is on this socket; what the room said meanwhile goes to `heard`."""
    await ws.send_json({"type": "hello", "user_id": user_id, "name": name})
    while True:
        frame = await ws.receive_json(timeout=WAIT)
        if frame["type"] == "ready":
            return
        if frame["type"] == "message":
            heard.append(frame["message"])


async def replay(seed: int) -> Counter[str]:
    """Play the day; the bot's messages the watching member got, by what they said."""
    lines = day(seed)
    with tempfile.TemporaryDirectory() as folder:
        async with start_fake_edge() as edge:
            settings = Settings(data_dir=Path(folder) / "data", tts_endpoint=edge.url,
                                espeak=False, demo=False, log_level="WARNING",
                                webchat_messages=0, webchat_new_ids_per_hour=0)
            async with running(settings, prepare) as bot, aiohttp.ClientSession() as http, \
                    http.ws_connect(f"{bot.url}/ws/{ROOM}") as watcher, \
                    http.ws_connect(f"{bot.url}/ws/{ROOM}") as phone:
                services, scheduler = bot.app[SERVICES], bot.app[SCHEDULER]
                start = utcnow()
                now = start
                services.clock = lambda: now
                heard: list[dict[str, Any]] = []
                await hello(watcher, "user-watcher-0001", "看群的", heard)
                with session(bot.app[ENGINE]) as db:
                    group = db.exec(select(Group)).one()
                    add_schedule(db, "telecom-fraud", [(group.id or 0, group.timezone)],
                                 run_at=start)
                await scheduler.run_due(start)
                await posted(bot.app)
                ignored: list[dict[str, Any]] = []
                for line in lines:
                    who = SECRETARY if line.member < 0 else (
                        f"user-member-{line.member:04d}", f"村民{line.member}")
                    # The ready answer says the last line was handled through.
                    await hello(phone, *who, ignored)
                    now = start + timedelta(minutes=line.minute)
                    await scheduler.fire_timers(now)
                    await phone.send_json({"type": "post", "text": line.text})
                await hello(phone, "user-watcher-0002", "收尾", ignored)
                now = start + timedelta(minutes=DAY + 60)
                await scheduler.fire_timers(now)
                await services.replies.drain(WAIT)
                await hello(watcher, "user-watcher-0001", "看群的", heard)
    return Counter(kind(m) for m in heard if m["from_bot"])


async def posted(app: web.Application) -> None:
    """Wait until the lesson's text and voice are out."""
    for _ in range(int(WAIT * 10)):
        with session(app[ENGINE]) as db:
            row = db.exec(select(Delivery)).first()
        if row is not None and row.status == DeliveryStatus.SENT and not row.audio_pending:
            return
        await asyncio.sleep(0.1)
    raise SystemExit("the lesson was not posted")


def kind(message: dict[str, Any]) -> str:
    """What a bot message in the group was, for the breakdown."""
    text = str(message.get("text") or "")
    if message.get("lesson_slug") or message.get("audio_url"):
        return "lesson"
    for word, label in (("乡亲听完", "listening tally"), ("积分加", "listening answer"),
                        ("号建议", "status change"), ("的建议是第", "suggestion answer"),
                        ("分", "points answer")):
        if word in text:
            return label
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    counts = asyncio.run(replay(args.seed))
    total = sum(counts.values())
    print(f"a lesson day in a {MEMBERS}-member web chat group: {LISTENS} listens, "
          f"{SUGGESTIONS} suggestions, {DECISIONS} status changes, {POINTS} points queries")
    for label, count in sorted(counts.items()):
        print(f"  {label}: {count}")
    print(f"bot messages into the group: {total} (at commit 5856ded: {BEFORE}; bar: < {BAR})")


if __name__ == "__main__":
    main()
