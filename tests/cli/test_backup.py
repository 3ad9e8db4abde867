"""`yehua backup` and `yehua restore` by a secretary: a busy bot, a fresh folder, refusals."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.core.db import open_database, session
from bot.core.models import Group, Suggestion
from bot.settings import Settings
from tests.support import builders
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, ZHANG, prepare_qq_groups, said, stored, with_onebot
from tests.support.polling import eventually
from tests.support.process import bot_env, yehua


def rows(db_file: Path, query: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(db_file)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def voices(audio: Path, count: int) -> dict[str, bytes]:
    """Voice files as members' messages leave them, plus the lesson-piece cache."""
    made = {f"{i:032x}.mp3": bytes([i]) * (30_000 + i) for i in range(count)}
    for name, body in made.items():
        (audio / name).write_bytes(body)
    (audio / "segments").mkdir(exist_ok=True)
    (audio / "segments" / "piece.mp3").write_bytes(b"cache")
    return made


async def test_a_backup_of_a_busy_bot_restores_into_a_fresh_folder_with_what_it_held(
    settings: Settings, napcat: FakeNapCat, tmp_path: Path
) -> None:
    archive = tmp_path / "usb" / "夜话备份.zip"
    archive.parent.mkdir()  # the USB stick, plugged in
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        made = voices(settings.audio_dir, 12)
        done = asyncio.Event()

        async def member_keeps_suggesting(worker: int) -> None:
            n = 0
            while not done.is_set():
                event = napcat.group_message(GROUP, ZHANG, said(f"建议 第{worker}-{n}条 修路"))
                assert (await napcat.post_event(bot.url, event))[0] == 204
                n += 1

        load = [asyncio.create_task(member_keeps_suggesting(w)) for w in range(3)]
        await eventually(lambda: len(stored(bot.app)) >= 30, 60)
        before = len(stored(bot.app))
        backup = await yehua("backup", "--to", str(archive), env=bot_env(settings.data_dir))
        after = len(stored(bot.app))
        done.set()
        await asyncio.gather(*load)
        live = {s.id: s.text for s in stored(bot.app)}

    assert backup.code == 0, backup
    assert "备份好了" in backup.out and "U 盘" in backup.out
    assert after > before, "members kept raising suggestions while the backup ran"
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("yehua-backup.json"))
        assert not any("segments" in name for name in opened.namelist()), "the cache stays out"

    fresh = tmp_path / "new-machine" / "data"
    restore = await yehua("restore", str(archive), env=bot_env(fresh))
    assert restore.code == 0, restore
    assert "恢复好了" in restore.out
    db_file = fresh / "yehua.db"
    assert rows(db_file, "PRAGMA integrity_check") == [("ok",)]
    restored = dict(rows(db_file, "SELECT id, text FROM suggestion"))
    assert before <= len(restored) <= after
    assert sorted(restored) == sorted(live)[: len(restored)], "a snapshot: no gaps"
    assert all(live[number] == said_text for number, said_text in restored.items())
    for table, count in manifest["tables"].items():
        assert rows(db_file, f'SELECT count(*) FROM "{table}"') == [(count,)], table
    for name in sorted(made)[::3]:
        assert (fresh / "audio" / name).read_bytes() == made[name]
    assert not (fresh / "audio" / "segments").exists()


def seeded_folder(data: Path, *groups: str) -> Path:
    engine = open_database(f"sqlite:///{data / 'yehua.db'}")
    for name in groups:
        builders.add_group(engine, name, chat_id=name)
    engine.dispose()
    (data / "audio").mkdir(exist_ok=True)
    (data / "audio" / "voice.mp3").write_bytes(b"ID3 voice")
    return data / "yehua.db"


def group_names(db_file: Path) -> list[str]:
    return [str(name) for (name,) in rows(db_file, "SELECT name FROM chat_group ORDER BY id")]


async def test_restore_refuses_a_folder_holding_data_and_with_force_moves_the_old_aside(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_file = seeded_folder(data, "枫树屋场")
    archive = tmp_path / "backup.zip"
    assert (await yehua("backup", "--to", str(archive), env=bot_env(data))).code == 0
    again = await yehua("backup", "--to", str(archive), env=bot_env(data))
    assert again.code == 2 and "已经有了" in again.err, "an existing backup is never overwritten"

    seeded_folder(data, "樟树屋场")  # the village went on after the backup
    refused = await yehua("restore", str(archive), env=bot_env(data))
    assert refused.code == 2, refused
    assert len(refused.err_lines) == 1 and "--force" in refused.err
    assert group_names(db_file) == ["枫树屋场", "樟树屋场"], "nothing was touched"

    forced = await yehua("restore", str(archive), "--force", env=bot_env(data))
    assert forced.code == 0, forced
    assert group_names(db_file) == ["枫树屋场"]
    [aside] = data.glob("before-restore-*")
    assert group_names(aside / "yehua.db") == ["枫树屋场", "樟树屋场"], "moved aside, not deleted"
    assert (aside / "audio" / "voice.mp3").read_bytes() == b"ID3 voice"
    assert str(aside.name) in forced.out


async def test_a_file_that_is_not_a_backup_is_refused_and_nothing_is_written(
        tmp_path: Path) -> None:
    fresh = tmp_path / "data"
    junk = tmp_path / "照片.zip"
    junk.write_bytes(b"not a zip at all")
    finished = await yehua("restore", str(junk), env=bot_env(fresh))
    assert finished.code == 1 and "不是夜话的备份" in finished.err
    sneaky = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(sneaky, "w") as archive:
        archive.writestr("yehua-backup.json", json.dumps({"format": 1, "database": "sqlite"}))
        archive.writestr("database/yehua.db", b"")
        archive.writestr("audio/../../escaped.txt", b"outside")
    finished = await yehua("restore", str(sneaky), env=bot_env(fresh))
    assert finished.code == 1 and "不是夜话的备份" in finished.err
    assert not (tmp_path / "escaped.txt").exists()
    assert not (fresh / "yehua.db").exists()
    missing = await yehua("restore", str(tmp_path / "nowhere.zip"), env=bot_env(fresh))
    assert missing.code == 1 and "找不到备份文件" in missing.err


async def test_a_backup_to_a_usb_stick_that_is_not_plugged_in_is_refused(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = bot_env(data)
    builders.add_group(open_database(f"sqlite:///{data / 'yehua.db'}"), "枫树屋场")
    for to in (tmp_path / "media" / "u盘" / "夜话备份.zip", tmp_path / "media" / "u盘"):
        finished = await yehua("backup", "--to", str(to), env=env)
        assert finished.code == 2 and "U 盘插好了吗" in finished.err
    assert not (tmp_path / "media").exists()  # no folder made on the office disk
    default = await yehua("backup", env=env)  # the settings' own backup folder is made
    assert default.code == 0 and list((data / "backups").glob("*.zip"))


async def test_without_pg_dump_a_postgres_backup_says_what_to_install(tmp_path: Path) -> None:
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = bot_env(tmp_path / "data", PATH=str(empty_path),
                  YEHUA_DATABASE_URL="postgresql+psycopg://yehua@127.0.0.1:9/yehua")
    finished = await yehua("backup", env=env)
    assert finished.code == 1, finished
    assert "pg_dump" in finished.err and "postgresql-client" in finished.err
    assert not list((tmp_path / "data" / "backups").glob("*.zip")), "no half-made archive"


def new_database(pg_server: str, name: str) -> str:
    import psycopg

    plain = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


async def test_a_postgres_backup_restores_into_an_empty_database(
        tmp_path: Path, pg_server: str) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed (apt-get install postgresql-client)")
    source = new_database(pg_server, f"backup_src_{tmp_path.name[-8:].lower()}")
    target = new_database(pg_server, f"backup_dst_{tmp_path.name[-8:].lower()}")
    engine = open_database(source)
    group = builders.add_group(engine, "枫树屋场", chat_id="fengshu")
    with session(engine) as db:
        for n in range(5):
            db.add(Suggestion(group_id=group.id, platform="web", chat_id="fengshu",
                              message_id=f"m{n}", author_id=f"u{n}", author_name="张大爷",
                              text=f"第{n}条 修路"))
    engine.dispose()
    archive = tmp_path / "pg.zip"
    made = await yehua("backup", "--to", str(archive),
                       env=bot_env(tmp_path / "data", YEHUA_DATABASE_URL=source))
    assert made.code == 0, made

    restored = await yehua("restore", str(archive),
                           env=bot_env(tmp_path / "fresh", YEHUA_DATABASE_URL=target))
    assert restored.code == 0, restored
    engine = open_database(target)
    with session(engine) as db:
        assert [g.name for g in db.exec(select(Group))] == ["枫树屋场"]
        assert sorted(s.text for s in db.exec(select(Suggestion))) == [
            f"第{n}条 修路" for n in range(5)]
        assert db.exec(text("SELECT count(*) FROM alembic_version")).one()[0] == 1
    engine.dispose()
    refused = await yehua("restore", str(archive),
                          env=bot_env(tmp_path / "fresh", YEHUA_DATABASE_URL=target))
    assert refused.code == 2 and "--force" in refused.err
    forced = await yehua("restore", str(archive), "--force",
                         env=bot_env(tmp_path / "fresh", YEHUA_DATABASE_URL=target))
    assert forced.code == 0, forced
    [aside] = (tmp_path / "fresh").glob("before-restore-*")
    assert (aside / "yehua.pgdump").stat().st_size > 0, "what the database held is kept"
