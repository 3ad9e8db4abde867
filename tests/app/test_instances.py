"""Three bot processes on one PostgreSQL: nothing lost, nothing doubled when one dies."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from sqlmodel import col, select

from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.talk_schedule import schedule_night_talk
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.builders import add_group
from tests.support.fake_edge import FakeEdge
from tests.support.fakes.telegram import TOKEN, FakeTelegram, start_fake_telegram
from tests.support.instances import instances, start
from tests.support.loopback import serve
from tests.support.polling import eventually
from tests.support.process import yehua
from tests.support.village import LI, ROOM, WAIT, ZHANG, post_voice

GROUPS = 200
LESSON = "telecom-fraud"
BEFORE_GATE = 20  # messages instance A gets out before its line to Telegram goes quiet
LEASE_S = 3


class Gate:
    """Instance A's line to the fake Telegram: lets sends through until closed, then holds
    them unanswered (a network gone quiet), so A dies with posts claimed and not sent."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.open = True
        self.held = 0
        self.answered: list[tuple[int, str]] = []  # (chat, method) Telegram accepted
        self.released = asyncio.Event()  # set when the test is over

    async def forward(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if method.startswith("send") and not self.open:
            self.held += 1
            await self.released.wait()  # A dies meanwhile; its request is never answered
            raise web.HTTPServiceUnavailable
        if method.startswith("send") and len(self.answered) >= BEFORE_GATE:
            self.open = False
        body = await request.read()
        async with aiohttp.ClientSession() as http, http.post(
                self.upstream + request.path_qs, data=body,
                headers={"Content-Type": request.headers.get("Content-Type", "")}) as answer:
            reply = await answer.read()
            if method.startswith("send") and answer.status == 200:
                chat = (await answer.json())["result"]["chat"]["id"]
                self.answered.append((chat, method))
            return web.Response(body=reply, status=answer.status,
                                content_type=answer.content_type)


@asynccontextmanager
async def gate(upstream: str) -> AsyncIterator[tuple[Gate, str]]:
    line = Gate(upstream)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/bot{token}/{method}", line.forward)
    async with serve(app, shutdown_timeout=0.1) as url:
        try:
            yield line, url
        finally:
            line.released.set()


def _seed(db_url: str) -> None:
    """200 Telegram groups and one lesson due now for all of them."""
    engine = open_database(db_url)
    with session(engine) as db:
        groups = [Group(platform="telegram", chat_id=str(-1001000000000 - i), name=f"第{i}组")
                  for i in range(GROUPS)]
        db.add_all(groups)
        db.flush()
        add_schedule(db, LESSON, [(g.id or 0, g.timezone) for g in groups], run_at=utcnow())
    engine.dispose()


def _ledger(db_url: str) -> dict[int, Delivery]:
    """Each group's chat id → its delivery."""
    engine = open_database(db_url)
    try:
        with session(engine) as db:
            rows = db.exec(select(Delivery, Group).where(col(Delivery.group_id) == Group.id))
            return {int(group.chat_id): delivery for delivery, group in rows}
    finally:
        engine.dispose()


def _recorded(db_url: str, answered: list[tuple[int, str]]) -> bool:
    """Whether every message Telegram accepted from A is written in A's ledger rows."""
    ledger = _ledger(db_url)
    return all(ledger[chat].text_message_id if method == "sendmessage"
               else ledger[chat].audio_message_id for chat, method in answered)


def _complete(fake: FakeTelegram) -> bool:
    return len({(s.chat_id, s.kind) for s in fake.sent}) == 2 * GROUPS


async def test_a_lesson_to_200_groups_goes_out_once_each_while_an_instance_is_killed(
        pg_url: str, tmp_path: Path, fake_edge: FakeEdge) -> None:
    _seed(pg_url)
    async with start_fake_telegram() as fake, gate(fake.url) as (line, line_url), instances(
            3, pg_url, tmp_path, start_all=False, per_instance={"A": {
                "YEHUA_TELEGRAM_API_BASE": line_url}},
            YEHUA_TELEGRAM_TOKEN=TOKEN, YEHUA_TELEGRAM_API_BASE=fake.url,
            YEHUA_TTS_ENDPOINT=fake_edge.url,
            YEHUA_CLAIM_LEASE_SECONDS=str(LEASE_S)) as (a, b, c):
        await start(a)  # first up: it claims the whole lesson at once
        await eventually(lambda: line.held > 0, 60)
        await asyncio.gather(start(b), start(c))
        # A still renews its claims: the others, just started, leave them alone.
        assert len(fake.sent) == len(line.answered)

        await eventually(lambda: _recorded(pg_url, line.answered), 10)
        a.kill()
        await eventually(lambda: _complete(fake), 120)
        ledger = _ledger(pg_url)

    counts = Counter((s.chat_id, s.kind) for s in fake.sent)
    assert len(line.answered) >= BEFORE_GATE
    assert {chat for chat, _ in counts} == set(ledger) and len(ledger) == GROUPS
    assert [key for key, n in counts.items() if n > 1] == []
    assert {d.status for d in ledger.values()} == {DeliveryStatus.SENT}
    assert all(s.text for s in fake.sent if s.kind == "text")


async def test_three_instances_started_together_on_an_empty_database_all_serve(
        pg_url: str, tmp_path: Path) -> None:
    # One migrates, the two others wait for it.
    async with instances(3, pg_url, tmp_path) as group, aiohttp.ClientSession() as http:
        for instance in group:
            async with http.get(instance.url + "/admin/login") as page:
                assert page.status == 200
    engine = open_database(pg_url)  # the schema is current: nothing left to migrate
    engine.dispose()


WU = ("user-wu-00000003", "吴大姐")


def _village(db_url: str) -> int:
    """The web-chat room every instance serves; its group id."""
    engine = open_database(db_url)
    try:
        return add_group(engine, "枫树村大群", chat_id=ROOM, hamlet="上屋场").id or 0
    finally:
        engine.dispose()


async def _said(ws: aiohttp.ClientWebSocketResponse, seconds: float,
                wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first message shown on `ws` that is `wanted`, waiting at most `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            frame: dict[str, Any] = await ws.receive_json()
            if frame.get("type") == "message" and wanted(frame["message"]):
                return frame["message"]


@asynccontextmanager
async def _joined(http: aiohttp.ClientSession, url: str, who: tuple[str, str]
                  ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with http.ws_connect(f"{url}/ws/{ROOM}") as ws:
        await ws.send_json({"type": "hello", "user_id": who[0], "name": who[1]})
        assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
        yield ws


async def test_web_chat_members_on_different_instances_see_each_others_messages(
        pg_url: str, tmp_path: Path) -> None:
    _village(pg_url)
    async with instances(3, pg_url, tmp_path) as (a, b, c), aiohttp.ClientSession() as http, \
            _joined(http, a.url, ZHANG) as on_a, _joined(http, b.url, LI) as on_b, \
            _joined(http, c.url, WU) as on_c:
        await on_a.send_json({"type": "post", "text": "今晚谁去看水渠？"})
        seen_on_b = await _said(on_b, 1.0, lambda m: m["text"] == "今晚谁去看水渠？")
        seen_on_c = await _said(on_c, 1.0, lambda m: m["text"] == "今晚谁去看水渠？")
        await on_b.send_json({"type": "post", "text": "我去"})
        seen_on_a = await _said(on_a, 1.0, lambda m: m["text"] == "我去")
    assert seen_on_b["sender_name"] == seen_on_c["sender_name"] == ZHANG[1]
    assert seen_on_a["sender_name"] == LI[1]


async def test_yehua_nighttalk_open_reaches_the_group_within_2_seconds(
        pg_url: str, tmp_path: Path) -> None:
    group_id = _village(pg_url)
    engine = open_database(pg_url)
    with session(engine) as db:
        group = db.get(Group, group_id)
        assert group is not None
        talk = schedule_night_talk(db, group=group, topic="村里修路",
                                   starts_at=utcnow() + timedelta(days=3), place="枫树屋场")
        talk_id = talk.id
    engine.dispose()
    async with instances(3, pg_url, tmp_path) as (a, b, _c), aiohttp.ClientSession() as http, \
            _joined(http, b.url, ZHANG) as on_b:
        done = await yehua("nighttalk", "open", str(talk_id), env=a.env)
        assert done.code == 0, done.err
        opening = await _said(on_b, 2.0, lambda m: m["from_bot"] and "【夜话开始】" in m["text"])
    assert "村里修路" in opening["text"]


async def test_media_posted_via_one_instance_plays_from_another(
        pg_url: str, tmp_path: Path) -> None:
    _village(pg_url)
    async with instances(2, pg_url, tmp_path) as (a, b):
        status, answer = await post_voice(a.url, ZHANG)
        assert status == 201, answer
        path = urlsplit(answer["message"]["audio_url"]).path
        async with aiohttp.ClientSession() as http, http.get(b.url + path) as played:
            body = await played.read()
            kind = played.content_type
    assert played.status == 200 and kind.startswith("audio/") and len(body) > 1000
