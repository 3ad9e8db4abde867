"""SQLite's log is copied back into the database file by the running bot's own checkpointer,
never inside a commit: while the bot runs, the database file alone catches up within seconds
of a burst; after a stop it holds everything and the log is empty."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import time
from pathlib import Path

from bot.core.db import Checkpointer, open_database
from tests.support.builders import add_group
from tests.support.fakes.onebot import SECRET, TOKEN, FakeNapCat
from tests.support.loopback import free_port
from tests.support.onebot import GROUP, said
from tests.support.polling import eventually
from tests.support.process import bot_env, start_yehua

SUGGESTIONS = 300


def _file_alone(data: Path, copy: Path) -> int | None:
    """How many suggestions a copy of the database file alone (no log beside it) holds; None
    while the copy caught a page being written."""
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(data / "yehua.db", copy)
    try:
        with sqlite3.connect(copy) as db:
            [(count,)] = db.execute("SELECT count(*) FROM suggestion").fetchall()
        return int(count)
    except sqlite3.DatabaseError:
        return None


async def test_the_database_file_alone_catches_up_while_running_and_holds_all_after_a_stop(
        tmp_path: Path, napcat: FakeNapCat) -> None:
    data = tmp_path / "data"
    data.mkdir()
    engine = open_database(f"sqlite:///{data / 'yehua.db'}")
    add_group(engine, "枫树村QQ群", platform="onebot", chat_id=str(GROUP))
    engine.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bot = await start_yehua(env=bot_env(
        data, YEHUA_PORT=str(port), YEHUA_ONEBOT_API_ROOT=napcat.url,
        YEHUA_ONEBOT_ACCESS_TOKEN=TOKEN, YEHUA_ONEBOT_SECRET=SECRET))
    copy = tmp_path / "copy.db"
    try:
        async def posted(event: dict[str, object]) -> int:
            try:
                status, _body = await napcat.post_event(url, event)
            except OSError:  # not listening yet
                return 0
            return status

        first = napcat.group_message(GROUP, 30_000, said("建议 村口的路灯修一修"))
        await eventually(lambda: posted(first), 60)
        events = [napcat.group_message(GROUP, 30_001 + n, said(f"建议 第{n}户门口的沟通一通"))
                  for n in range(SUGGESTIONS - 1)]
        statuses = await asyncio.gather(*(napcat.post_event(url, e) for e in events))
        assert {status for status, _body in statuses} == {204}
        # Nothing is left only in the log for long: a copy of the file alone soon has them all.
        await eventually(lambda: _file_alone(data, copy) == SUGGESTIONS, 30)
    finally:
        bot.terminate()
        await bot.wait()
    assert bot.returncode == 0
    wal = data / "yehua.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0, "the log was copied back at the stop"
    assert _file_alone(data, copy) == SUGGESTIONS


async def test_the_log_stays_small_while_writes_keep_coming(tmp_path: Path) -> None:
    """A long busy spell (every second full of commits) never lets the log grow with all that
    was written: the disk of a small office machine holds about a second's writes beside the
    database, not the whole burst."""
    path = tmp_path / "yehua.db"
    engine = open_database(f"sqlite:///{path}", checkpoints=False)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)")
    checkpointer = Checkpointer(engine, every=0.1)
    checkpointer.start()
    wal = Path(f"{path}-wal")
    written, largest = 0, 0

    def write_for_a_while() -> None:
        nonlocal written, largest
        row = os.urandom(4096)
        while written < 48 * 1024 * 1024:
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO filler (data) VALUES (?)",
                                           [(row,)] * 10)
            written += 10 * len(row)
            largest = max(largest, wal.stat().st_size)
            time.sleep(0.002)  # a few hundred commits a second, as a busy bot makes

    try:
        await asyncio.to_thread(write_for_a_while)
    finally:
        await checkpointer.close()
        engine.dispose()
    assert checkpointer.runs >= 10
    assert largest < 32 * 1024 * 1024, f"the log reached {largest / 1e6:.0f} MB"
    with sqlite3.connect(path) as db:
        [(rows,)] = db.execute("SELECT count(*) FROM filler").fetchall()
    assert rows * 4096 == written
