"""Two instances on one PostgreSQL, each with its own data folder: whatever one of them received
or made plays from the other, and what the village's sweep deleted plays from neither."""

from __future__ import annotations

import asyncio
import shutil
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE, POSTER, RETENTION, VOICE
from bot.core.db import session
from bot.core.models import ChatMessage, Group, MediaFile, Photo
from bot.domain.backup import write_backup
from bot.domain.restore import restore_backup
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from tests.support.app import RunningApp, running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.telegram import FakeTelegram
from tests.support.loopback import free_port
from tests.support.onebot import GROUP, OTHER_GROUP, prepare_qq_groups, with_onebot
from tests.support.pg import fresh_database
from tests.support.photos import picture
from tests.support.polling import eventually
from tests.support.recordings import recording, spoken_paragraphs
from tests.support.telegram import VILLAGE, groups, on_telegram
from tests.support.telegram import ZHANG as TG_ZHANG
from tests.support.village import LI, ROOM, ZHANG, post_voice, prepare_village


def instance(settings: Settings, pg_url: str, name: str, **changes: Any) -> Settings:
    """One instance's settings: the shared database, a data folder of its own."""
    return replace(settings, data_dir=settings.data_dir.parent / name, database_url=pg_url,
                   **changes)


@asynccontextmanager
async def two(settings: Settings, pg_url: str) -> AsyncIterator[tuple[RunningApp, RunningApp]]:
    """Instances A and B on one database, with the village's web chat room."""
    async with running(instance(settings, pg_url, "a"), prepare_village) as a, \
            running(instance(settings, pg_url, "b")) as b:
        yield a, b


async def fetch(url: str, headers: dict[str, str] | None = None
                ) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.read(), dict(response.headers)


def voice_url(bot: RunningApp) -> str:
    """The /media/ address of the one voice in the room's history."""
    with session(bot.app[ENGINE]) as db:
        [url] = db.exec(select(ChatMessage.audio_url).where(
            col(ChatMessage.audio_url).is_not(None))).all()
    assert url is not None
    return url


async def test_a_voice_sent_to_one_instance_plays_from_the_other(
        settings: Settings, pg_url: str) -> None:
    async with two(settings, pg_url) as (a, b):
        status, _ = await post_voice(a.url, ZHANG)
        assert status == 201
        url = voice_url(a)
        sent = (instance(settings, pg_url, "a").audio_dir / url.rsplit("/", 1)[1]).read_bytes()

        played, body, headers = await fetch(b.url + url)
        assert (played, headers["Content-Type"]) == (200, "audio/mpeg")
        assert body == sent
        shutil.rmtree(instance(settings, pg_url, "b").audio_dir)
        instance(settings, pg_url, "b").audio_dir.mkdir()
        at_once = await asyncio.gather(*(fetch(b.url + url) for _ in range(20)))
        assert {(status, body) for status, body, _ in at_once} == {(200, sent)}

        # B now holds a copy; A's folder is lost: both still play it, from the database.
        shutil.rmtree(instance(settings, pg_url, "a").audio_dir)
        instance(settings, pg_url, "a").audio_dir.mkdir()
        shutil.rmtree(instance(settings, pg_url, "b").audio_dir)
        instance(settings, pg_url, "b").audio_dir.mkdir()
        partial, head, _ = await fetch(b.url + url, {"Range": "bytes=0-99"})
        assert (partial, head) == (206, sent[:100])
        assert (await fetch(a.url + url))[:2] == (200, sent)


async def test_a_photo_and_its_thumbnail_sent_to_one_instance_show_from_the_other(
        settings: Settings, pg_url: str) -> None:
    async with two(settings, pg_url) as (a, b):
        form = FormData()
        form.add_field("user_id", ZHANG[0])
        form.add_field("name", ZHANG[1])
        form.add_field("text", "建议 村口路灯坏了")
        form.add_field("photo", picture(1600, 1200), filename="IMG_0001.jpg",
                       content_type="image/jpeg")
        async with aiohttp.ClientSession() as http, \
                http.post(f"{a.url}/api/rooms/{ROOM}/photo", data=form) as response:
            assert response.status == 201

        def kept() -> Photo | None:
            with session(a.app[ENGINE]) as db:
                return db.exec(select(Photo)).first()

        photo: Photo = await eventually(kept)
        folder = instance(settings, pg_url, "a").audio_dir
        for name in (photo.path, photo.thumb_path):
            status, body, headers = await fetch(f"{b.url}/media/{name}")
            assert (status, headers["Content-Type"]) == (200, "image/jpeg")
            assert body == (folder / name).read_bytes()


async def test_a_lesson_posted_by_one_instance_is_fetched_by_qq_from_the_other(
        settings: Settings, pg_url: str, napcat: FakeNapCat) -> None:
    port = free_port()
    on_qq = with_onebot(settings, napcat, YEHUA_ONEBOT_VOICE="url")
    poster = instance(on_qq, pg_url, "a", public_url=f"http://127.0.0.1:{port}")
    async with running(poster, prepare_qq_groups) as a, \
            running(instance(settings, pg_url, "b"), port=port) as b:
        with session(a.app[ENGINE]) as db:
            deliveries = [Delivery(lesson_slug="telecom-fraud", group_id=group.id or 0,
                                   occurrence=utcnow()) for group in db.exec(select(Group))]
            db.add_all(deliveries)
            db.flush()
            ids = [delivery.id or 0 for delivery in deliveries]
        await asyncio.gather(*(a.app[POSTER].post(delivery_id) for delivery_id in ids))

        with session(a.app[ENGINE]) as db:
            posted = db.exec(select(Delivery)).all()
        assert [d.status for d in posted] == [DeliveryStatus.SENT] * 2
        voices = [sent for sent in napcat.sent if sent.audio]
        assert sorted(sent.group_id for sent in voices) == sorted((GROUP, OTHER_GROUP))
        [address] = {sent.record_file for sent in voices}  # one file for both groups
        assert address.startswith(f"{b.url}/media/") and address.endswith(".mp3")
        made = (instance(settings, pg_url, "a").audio_dir / address.rsplit("/", 1)[1]).read_bytes()
        for voice in voices:
            assert voice.audio_codec.startswith("mp3") and voice.audio_seconds > 10
            assert voice.audio == made


async def test_names_nobody_kept_or_the_folder_never_serves_are_not_found(
        settings: Settings, pg_url: str) -> None:
    async with two(settings, pg_url) as (a, b):
        with session(a.app[ENGINE]) as db:
            db.add(MediaFile(name="notes.txt", data=b"secret", size=6))
        for name in ("0123456789abcdef0123456789abcdef.mp3", "notes.txt", "..%2Fyehua.db",
                     "0123456789ABCDEF0123456789ABCDEF.mp3"):
            status, body, _ = await fetch(f"{b.url}/media/{name}")
            assert status == 404 and b"secret" not in body


async def test_the_nightly_sweep_on_one_instance_silences_an_old_voice_on_every_instance(
        settings: Settings, pg_url: str) -> None:
    async with two(settings, pg_url) as (a, b):
        assert (await post_voice(b.url, ZHANG))[0] == 201  # received by B: its folder holds it
        url = voice_url(b)
        name = url.rsplit("/", 1)[1]
        assert (await fetch(a.url + url))[0] == 200  # and now A holds a copy
        with session(a.app[ENGINE]) as db:
            for row in db.exec(select(ChatMessage)):
                row.created_at = utcnow() - timedelta(days=95)
                db.add(row)

        assert await asyncio.to_thread(a.app[RETENTION].sweep) == 1

        with session(a.app[ENGINE]) as db:
            row = db.get(MediaFile, name)
        assert row is not None and row.data == b""  # the bytes are gone; the name marks it
        assert (await fetch(a.url + url))[0] == 404
        assert (await fetch(b.url + url))[0] == 404
        assert not (instance(settings, pg_url, "b").audio_dir / name).exists()
        assert not (instance(settings, pg_url, "a").audio_dir / name).exists()


async def test_a_backup_on_postgres_holds_a_shared_voice_once_and_the_restored_bot_plays_it(
        settings: Settings, pg_url: str, pg_server: str) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed (apt-get install postgresql-client)")
    first = instance(settings, pg_url, "a")
    async with running(first, prepare_village) as a:
        assert (await post_voice(a.url, ZHANG))[0] == 201
        url = voice_url(a)
    name = url.rsplit("/", 1)[1]
    voice = (first.audio_dir / name).read_bytes()

    made = await asyncio.to_thread(write_backup, first, settings.data_dir.parent / "b.zip")
    with zipfile.ZipFile(made.path) as archive:
        assert not [member for member in archive.namelist() if member.endswith(name)]

    restored = instance(settings, fresh_database(pg_server), "restored")
    await asyncio.to_thread(restore_backup, restored, made.path)
    async with running(restored) as again:
        assert (await fetch(again.url + url))[:2] == (200, voice)


async def test_a_speakers_recording_kept_through_one_instance_plays_from_the_other(
        settings: Settings, pg_url: str) -> None:
    async with two(settings, pg_url) as (a, b):
        voice = a.app[VOICE]
        lesson = await voice.find_lesson("ebike-charging")
        assert lesson is not None
        speech, _ = await voice.keep_recording(lesson, spoken_paragraphs([4.0, 3.0], gap=1.0),
                                               original_name="张老师.m4a", uploaded_by="李书记")

        played, body, headers = await fetch(f"{b.url}/media/{speech.path.name}")
        assert (played, headers["Content-Type"]) == (200, "audio/mpeg")
        assert body == speech.path.read_bytes()
        copy = instance(settings, pg_url, "b").audio_dir / speech.path.name
        assert copy.with_suffix(".srt").read_text("utf-8") == speech.srt  # kept together
        subtitles = await fetch(f"{b.url}/media/{speech.path.with_suffix('.srt').name}")
        assert subtitles[:2] == (200, speech.srt.encode())
        with session(a.app[ENGINE]) as db:  # served from the recording's own row: kept once
            assert db.get(MediaFile, speech.path.name) is None


async def test_one_instance_on_sqlite_keeps_its_media_in_its_folder_only(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot:
        assert (await post_voice(bot.url, ZHANG))[0] == 201
        url = voice_url(bot)
        assert (await fetch(bot.url + url))[0] == 200
        with session(bot.app[ENGINE]) as db:  # the database and its backups stay small
            assert db.exec(select(MediaFile)).all() == []


async def test_a_telegram_photo_that_is_only_chat_is_dropped_for_every_instance(
        settings: Settings, pg_url: str, telegram: FakeTelegram) -> None:
    on_tg = instance(on_telegram(settings, telegram), pg_url, "a")
    async with running(on_tg, groups()) as a, running(instance(settings, pg_url, "b")) as b:
        telegram.say_photo(VILLAGE, TG_ZHANG, [(640, 480, picture(640, 480))], "看看我家的狗")

        def dropped() -> MediaFile | None:
            """The picture's row once its bytes are gone (kept first, like every picture)."""
            with session(a.app[ENGINE]) as db:
                return db.exec(select(MediaFile).where(
                    col(MediaFile.name).endswith(".jpg"), col(MediaFile.size) < 0)).first()

        row: MediaFile = await eventually(dropped)
        assert row.data == b""
        assert (await fetch(f"{b.url}/media/{row.name}"))[0] == 404
        assert not (on_tg.audio_dir / row.name).exists()


async def test_a_voice_from_before_instances_shared_media_plays_from_a_new_instance(
        settings: Settings, pg_url: str) -> None:
    first = instance(settings, pg_url, "a")
    first.audio_dir.mkdir(parents=True)
    older = first.audio_dir / "00112233445566778899aabbccddeeff.mp3"
    # Received when one bot ran alone, before the database kept media.
    older.write_bytes(recording(2.0, container="mp3", codec="libmp3lame"))

    async with two(settings, pg_url) as (_a, b):

        async def played() -> bytes | None:
            status, body, _ = await fetch(f"{b.url}/media/{older.name}")
            return body if status == 200 else None

        assert await eventually(played) == older.read_bytes()


async def test_the_voice_quota_counts_the_voices_another_instance_keeps(
        settings: Settings, pg_url: str) -> None:
    settings = replace(settings, webchat_voice_quota_mb=1)
    async with two(settings, pg_url) as (a, b):
        name = "ffeeddccbbaa99887766554433221100.mp3"  # a long voice A took: 1 MB, not on B
        with session(a.app[ENGINE]) as db:
            group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
            db.add(ChatMessage(group_id=group.id, sender_id=LI[0], sender_name=LI[1],
                               audio_url=f"/media/{name}", audio_duration=120.0))
            db.add(MediaFile(name=name, data=bytes(1024 * 1024), size=1024 * 1024))

        status, body = await post_voice(b.url, ZHANG)
        assert status == 507
        assert body["error"] == texts.WEB_LIMIT_VOICE_FULL
