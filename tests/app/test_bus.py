"""Two instances of the bot on one PostgreSQL: what one stores, the other shows and acts on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from aiohttp import web
from sqlmodel import select

from bot import texts
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group
from bot.core.pgbus import APPLICATION_NAME
from bot.domain.talk_schedule import schedule_night_talk
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp, running
from tests.support.console_village import FACILITATOR_LOGIN, prepare_console, signed_in
from tests.support.polling import eventually
from tests.support.process import bot_env, yehua
from tests.support.village import LI, ROOM, ZHANG, bot_texts, prepare_village
from tests.support.watch import Watcher, watching

OPENING = "【夜话开始】"


@asynccontextmanager
async def two_instances(settings: Settings, pg_url: str, tmp_path: Path,
                        prepare: object = prepare_village
                        ) -> AsyncIterator[tuple[RunningApp, RunningApp]]:
    """Instances A (which sets the village up) and B, each with its own data folder."""
    shared = replace(settings, database_url=pg_url)
    async with running(replace(shared, data_dir=tmp_path / "a"), prepare) as one, \
            running(replace(shared, data_dir=tmp_path / "b")) as two:  # type: ignore[arg-type]
        yield one, two


async def said_by_all(text: str, *watchers: Watcher) -> None:
    for watcher in watchers:
        await watcher.sees(text)


def assert_each_once(*watchers: Watcher) -> None:
    for watcher in watchers:
        assert len(watcher.ids) == len(set(watcher.ids)), (watcher.name, watcher.ids)


async def test_members_on_two_instances_see_each_others_messages_once(
        settings: Settings, pg_url: str, tmp_path: Path) -> None:
    async with two_instances(settings, pg_url, tmp_path) as (a, b), \
            watching(a.url, ZHANG) as zhang_a, watching(b.url, ZHANG) as zhang_b, \
            watching(a.url, LI) as li_a, watching(b.url, LI) as li_b:
        await zhang_a.post("今晚村部开会吗")
        await said_by_all("今晚村部开会吗", zhang_a, zhang_b, li_a, li_b)
        await li_b.post("开，七点半")
        await said_by_all("开，七点半", zhang_a, zhang_b, li_a, li_b)

        await zhang_a.post("建议")  # answered for the whole room
        usage = await li_b.sees(texts.CMD_USAGE_SUGGEST)
        assert usage["from_bot"] and not usage["private"]
        await zhang_a.post("建议 村口路灯坏了")  # answered for 张大爷 alone
        told = await zhang_b.sees("第 1 号")
        assert told["private"]

        await li_b.post("好的")
        await said_by_all("好的", zhang_a, zhang_b, li_a, li_b)
        assert_each_once(zhang_a, zhang_b, li_a, li_b)
        assert set(li_a.ids) == set(li_b.ids)
        assert set(zhang_a.ids) == set(zhang_b.ids) == set(li_b.ids) | {told["id"]}
        assert not li_b.with_text("第 1 号") and not li_a.with_text("第 1 号")


def talk_ahead(app: web.Application) -> None:
    """The village, with a night talk the day after tomorrow (its preview goes out at start)."""
    prepare_village(app)
    with session(app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
        schedule_night_talk(db, group=group, topic="村里修路",
                            starts_at=utcnow() + timedelta(days=2), created_by="test")


async def test_a_talk_opened_from_the_command_is_announced_once_by_either_instance(
        settings: Settings, pg_url: str, tmp_path: Path) -> None:
    async with two_instances(settings, pg_url, tmp_path, talk_ahead) as (a, b), \
            watching(a.url, ZHANG) as zhang_a, watching(b.url, LI) as li_b:
        env = bot_env(tmp_path / "cli", YEHUA_DATABASE_URL=pg_url)
        done = await yehua("nighttalk", "open", "1", env=env)
        assert done.code == 0, done.err

        # Well before the scheduler's one-minute look at the database.
        await zhang_a.sees(OPENING, within=10)
        await li_b.sees(OPENING, within=10)
        await li_b.post("到")
        await said_by_all("到", zhang_a, li_b)
        assert len(zhang_a.with_text(OPENING)) == len(li_b.with_text(OPENING)) == 1
        assert sum(OPENING in text for text in bot_texts(a.app)) == 1
        assert_each_once(zhang_a, li_b)


def cut_bus(pg_url: str, *, listening_only: bool = False) -> int:
    """Cut the bus connections (or only those that listen), as a PostgreSQL restart or a
    network fault would; how many were cut."""
    with psycopg.connect(plain(pg_url), autocommit=True) as connection:
        cut = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()"
            " AND (query LIKE 'LISTEN%%' OR NOT %s)",
            (APPLICATION_NAME, listening_only)).fetchall()
    return len(cut)


def bus_connections(pg_url: str) -> int:
    with psycopg.connect(plain(pg_url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,)).fetchone()
    assert row is not None
    return int(row[0])


def plain(pg_url: str) -> str:
    return pg_url.replace("postgresql+psycopg://", "postgresql://")


async def test_messages_still_cross_after_the_bus_connections_are_cut(
        settings: Settings, pg_url: str, tmp_path: Path) -> None:
    async with two_instances(settings, pg_url, tmp_path) as (a, b), \
            watching(a.url, ZHANG) as zhang_a, watching(b.url, LI) as li_b:
        await zhang_a.post("路灯修好了没")
        await li_b.sees("路灯修好了没")

        assert cut_bus(pg_url) == 4  # each instance: one listening, one publishing
        await zhang_a.post("断线时说的")  # sent once A's bus is back
        await li_b.sees("断线时说的", within=20)
        await eventually(lambda: bus_connections(pg_url) == 4, within=20)
        # Only the listeners: A's note goes out at once, while B is not listening.
        assert cut_bus(pg_url, listening_only=True) == 2
        await zhang_a.post("你那边断了")
        await li_b.sees("你那边断了", within=20)  # re-read by B once it is back

        await eventually(lambda: bus_connections(pg_url) == 4, within=20)
        await li_b.post("修好了")
        await zhang_a.sees("修好了")
        await zhang_a.post("谢谢")
        await said_by_all("谢谢", zhang_a, li_b)
        assert_each_once(zhang_a, li_b)
        assert set(zhang_a.ids) == set(li_b.ids)


async def test_a_talk_opened_on_one_console_gathers_suggestions_from_the_other_instance(
        settings: Settings, pg_url: str, tmp_path: Path) -> None:
    async with two_instances(settings, pg_url, tmp_path, prepare_console) as (a, b), \
            watching(a.url, ZHANG) as zhang_a, watching(b.url, LI) as li_b, \
            signed_in(b.url, FACILITATOR_LOGIN) as facilitator:
        tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date()
        status, _ = await facilitator.post("/admin/talks", {
            "group": "1", "date": tomorrow.isoformat(), "start": "19:30", "end": "",
            "topic": "村里修路", "place": "枫树屋场晒谷坪", "host": "李伯"},
            form_on="/admin/talks")
        assert status == 200
        status, page = await facilitator.post("/admin/talks/1/open", {},
                                              form_on="/admin/talks/1")
        assert status == 200 and "data-live-url" in page
        await zhang_a.sees(OPENING)  # posted by B, shown by A

        await zhang_a.post("建议 村口路灯坏了")  # raised through A
        await zhang_a.sees("第 1 号")

        async def feed_on_b() -> list[dict[str, object]]:
            async with facilitator.http.get(f"{b.url}/admin/talks/1/live?after=0") as response:
                assert response.status == 200
                found: list[dict[str, object]] = (await response.json())["suggestions"]
                return found

        [raised] = await eventually(feed_on_b)
        assert (raised["number"], raised["author"]) == (1, "张大爷")
        assert raised["text"] == "村口路灯坏了"
        await li_b.post("收到")
        await said_by_all("收到", zhang_a, li_b)
        assert len(zhang_a.with_text(OPENING)) == len(li_b.with_text(OPENING)) == 1
        assert_each_once(zhang_a, li_b)
