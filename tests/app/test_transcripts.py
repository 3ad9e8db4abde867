"""Voice suggestions get a machine transcript from an OpenAI-compatible server: in the receipt,
the console, the closing summary and reports, marked 机器转写 until a person settles it."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE, SERVICES
from bot.core.db import open_database, session
from bot.core.models import ChatMessage, NightTalk, Role, Suggestion
from bot.settings import Settings, asr_settings
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp, running
from tests.support.builders import add_group
from tests.support.console import add_account, visitor, with_console
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.speech_server import KEY, FakeSpeechServer, closed_server_url
from tests.support.fakes.telegram import FakeTelegram
from tests.support.loopback import free_port
from tests.support.onebot import GROUP as QQ_GROUP
from tests.support.onebot import ZHANG as QQ_ZHANG
from tests.support.onebot import onebot_env, said
from tests.support.photos import picture
from tests.support.polling import eventually
from tests.support.process import bot_env, serving, start_yehua
from tests.support.recordings import recording
from tests.support.telegram import LI as TG_LI
from tests.support.telegram import VILLAGE, answer_to, groups, on_telegram
from tests.support.village import (
    FACILITATOR,
    ROOM,
    ZHANG,
    Person,
    bot_texts,
    joined,
    prepare_village,
    say_by_voice,
    suggestions,
    village_id,
)

HEARD = "村口的路灯坏了三个月了，晚上走路看不见"
ASK = "要把这段语音记成建议吗？回「是」就记上。"
RECEIPT = texts.CMD_SUGGESTION_RAISED_VOICE.format(number=1)


def with_asr(settings: Settings, url: str, **env: str) -> Settings:
    """The test's settings with a transcription server, read as start-up reads them."""
    variables = {"YEHUA_ASR_URL": url, "YEHUA_ASR_MODEL": "sensevoice-small",
                 "YEHUA_ASR_API_KEY": KEY, **env}
    return replace(settings, asr=asr_settings(variables))


def village_with_console(app: web.Application) -> None:
    prepare_village(app)
    with_console(app)


@pytest.fixture
async def bot(settings: Settings, speech_server: FakeSpeechServer
              ) -> AsyncIterator[RunningApp]:
    async with running(with_asr(settings, speech_server.url), village_with_console) as bot:
        add_account(bot, "wang", Role.SECRETARY, "王书记")
        yield bot


async def voice_suggestion(bot: RunningApp, zhang: Person) -> str:
    """张大爷 sends a voice, says 「是」 when asked, and gets his receipt."""
    await say_by_voice(bot.url, ZHANG)
    assert await zhang.sees("记成建议") == ASK
    return await zhang.ask("是")


def only(bot: RunningApp) -> Suggestion:
    [row] = suggestions(bot.app)
    return row


async def test_the_receipt_console_and_report_show_the_machine_transcript(
        bot: RunningApp, speech_server: FakeSpeechServer) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        receipt = await voice_suggestion(bot, zhang)

    assert receipt == RECEIPT + "\n" + texts.TRANSCRIPT_RECEIPT.format(text=HEARD)
    row = only(bot)
    assert (row.text, row.machine_text) == (HEARD, True)
    [asked] = speech_server.transcription_requests
    assert asked.fields == {"model": "sensevoice-small", "language": "zh",
                            "response_format": "json"}
    assert asked.headers["Authorization"] == f"Bearer {KEY}"
    assert asked.filename.endswith(".mp3") and asked.audio.startswith((b"\xff", b"ID3"))

    async with visitor(bot, "wang") as wang:
        _, board = await wang.get("/admin/suggestions")
        _, detail = await wang.get("/admin/suggestions/1")
        today = (utcnow() + timedelta(hours=8)).date().isoformat()
        async with wang.http.get(f"{bot.url}/admin/reports/download?from={today}&to={today}"
                                 "&format=csv") as response:
            assert response.status == 200, await response.text()
            report = (await response.read()).decode("utf-8-sig")
    assert HEARD in board and 'data-testid="machine-tag"' in board
    assert HEARD in detail and texts.ADMIN_TRANSCRIPT_CONFIRM in detail
    assert HEARD + texts.TRANSCRIPT_MARK in report


async def test_correcting_the_transcript_in_the_console_clears_the_mark_and_is_in_the_history(
        bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        await voice_suggestion(bot, zhang)
    corrected = "村口的路灯坏了三个月了，晚上走路看不见，请派人修一修"
    async with visitor(bot, "wang") as wang:
        token = await wang.token("/admin/suggestions/1")
        response = await wang.post("/admin/suggestions/1/text", {"text": corrected}, token)
        assert response.status == 302
        _, detail = await wang.get("/admin/suggestions/1")
        _, board = await wang.get("/admin/suggestions")

    row = only(bot)
    assert (row.text, row.machine_text) == (corrected, False)
    assert 'data-testid="machine-tag"' not in detail + board
    assert texts.TRANSCRIPT_CORRECTED_HISTORY.format(before=HEARD) in detail
    assert "王书记" in detail


async def test_confirming_the_transcript_keeps_the_words_and_drops_the_mark(
        bot: RunningApp) -> None:
    async with joined(bot.url, ZHANG) as zhang:
        await voice_suggestion(bot, zhang)
    async with visitor(bot, "wang") as wang:
        token = await wang.token("/admin/suggestions/1")
        response = await wang.post("/admin/suggestions/1/transcript", {}, token)
        assert response.status == 302
        again = await wang.post("/admin/suggestions/1/transcript", {}, token)
        assert again.status == 302
        _, detail = await wang.get("/admin/suggestions/1")

    row = only(bot)
    assert (row.text, row.machine_text) == (HEARD, False)
    assert detail.count(texts.TRANSCRIPT_CONFIRMED_HISTORY) == 1
    assert 'data-testid="transcript-confirm"' not in detail


def add_talk(bot: RunningApp) -> None:
    now = utcnow()
    with session(bot.app[ENGINE]) as db:
        db.add(NightTalk(group_id=village_id(bot.app), topic="村里修路", starts_at=now,
                         ends_at=now + timedelta(hours=1)))


async def test_the_closing_summary_marks_the_machine_transcript(bot: RunningApp) -> None:
    add_talk(bot)
    async with joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang:
        await host.ask("/开始夜话")
        await zhang.sees("【夜话开始】")
        await say_by_voice(bot.url, ZHANG)
        receipt = await zhang.sees("第 1 号")
        await host.say("/结束夜话")
        summary = await zhang.sees("【夜话结束】")

    assert texts.TRANSCRIPT_RECEIPT.format(text=HEARD) in receipt
    assert f"1. [语音] {HEARD}（机器转写）（张大爷，第1号）" in summary


async def test_the_facilitator_corrects_the_transcript_on_the_talks_page(
        bot: RunningApp) -> None:
    add_talk(bot)
    add_account(bot, "libo", Role.FACILITATOR, "李伯")
    async with joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang:
        await host.ask("/开始夜话")
        await say_by_voice(bot.url, ZHANG)
        await zhang.sees("第 1 号")
    corrected = "村口的路灯坏了三个月，晚上走路看不见"
    async with visitor(bot, "libo") as libo:
        _, before = await libo.get("/admin/talks/1")
        token = await libo.token("/admin/talks/1")
        response = await libo.post("/admin/talks/1/transcript/1",
                                   {"text": corrected, "action": "correct"}, token)
        assert response.status == 302
        _, after = await libo.get("/admin/talks/1")

    assert HEARD + texts.TRANSCRIPT_MARK in before and 'data-testid="transcript-form"' in before
    assert corrected in after and texts.TRANSCRIPT_MARK not in after
    assert 'data-testid="transcript-form"' not in after
    row = only(bot)
    assert (row.text, row.machine_text) == (corrected, False)


@pytest.mark.parametrize("trouble", ["fail", "slow", "unauthorized", "down"])
async def test_without_a_transcript_the_voice_is_still_stored_and_answered(
        settings: Settings, speech_server: FakeSpeechServer, trouble: str) -> None:
    url = speech_server.url
    if trouble == "down":
        url = closed_server_url()
    else:
        speech_server.transcriptions.set_mode(trouble)
    asr = with_asr(settings, url, YEHUA_ASR_TIMEOUT="1")
    async with running(asr, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        receipt = await voice_suggestion(bot, zhang)

    assert receipt == RECEIPT
    row = only(bot)
    assert row.voice_path and (row.text, row.machine_text) == ("", False)


async def test_without_a_transcription_server_nothing_changes(
        settings: Settings, speech_server: FakeSpeechServer) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, ZHANG) as zhang:
        receipt = await voice_suggestion(bot, zhang)
        assert bot.app[SERVICES].transcripts is None

    assert receipt == RECEIPT
    assert (only(bot).text, only(bot).machine_text) == ("", False)
    assert speech_server.transcription_requests == []


async def test_words_a_person_wrote_meanwhile_are_not_replaced(
        settings: Settings, speech_server: FakeSpeechServer) -> None:
    speech_server.transcriptions.set_mode("slow", slow_s=1.0)
    async with running(with_asr(settings, speech_server.url), prepare_village) as bot, \
            joined(bot.url, ZHANG) as zhang:
        await say_by_voice(bot.url, ZHANG)
        await zhang.sees("记成建议")
        await zhang.say("是")
        await eventually(lambda: suggestions(bot.app))
        with session(bot.app[ENGINE]) as db:
            row = db.get(Suggestion, 1)
            assert row is not None
            row.text = "路灯坏了"  # typed in by the secretary before the server answered
            db.add(row)
        receipt = await zhang.sees("第 1 号")
        transcripts = bot.app[SERVICES].transcripts
        assert transcripts is not None
        await transcripts.wait()

    assert receipt == RECEIPT
    assert (only(bot).text, only(bot).machine_text) == ("路灯坏了", False)
    assert HEARD not in "".join(bot_texts(bot.app))


async def test_a_telegram_voice_gets_the_transcript_in_its_private_receipt(
        settings: Settings, speech_server: FakeSpeechServer, telegram: FakeTelegram) -> None:
    telegram.start_bot(TG_LI)  # she opened a chat with the bot: answers for her go there
    tg = on_telegram(with_asr(settings, speech_server.url), telegram)
    async with running(tg, groups()) as bot:
        said = telegram.say_voice(VILLAGE, TG_LI, recording(2.0, container="ogg"), duration=2)
        await answer_to(telegram, said, "记成建议")
        telegram.say(VILLAGE, TG_LI, "是的")
        private = await eventually(lambda: [s for s in telegram.to(TG_LI["id"], "text")
                                            if "第 1 号" in s.text])
        row = only(bot)

    assert texts.TRANSCRIPT_RECEIPT.format(text=HEARD) in private[0].text
    assert (row.text, row.machine_text) == (HEARD, True)
    assert len(speech_server.transcription_requests) == 1
    # The group sees one short line at most, never the member's words read by a machine.
    assert not [s for s in telegram.to(VILLAGE, "text") if HEARD in s.text]


async def test_a_bot_stopping_while_the_server_thinks_still_sends_the_receipt(
        settings: Settings, speech_server: FakeSpeechServer) -> None:
    speech_server.transcriptions.set_mode("slow")
    async with running(with_asr(settings, speech_server.url), prepare_village) as bot, \
            joined(bot.url, ZHANG) as zhang:
        await say_by_voice(bot.url, ZHANG)
        await zhang.sees("记成建议")
        await zhang.say("是")
        await eventually(lambda: speech_server.transcription_requests)

    assert RECEIPT in bot_texts(bot.app)
    assert only(bot).voice_path


@pytest.mark.parametrize("points_cap", [None, 1], ids=["points", "over-todays-points"])
async def test_a_bot_killed_while_the_server_thinks_sends_the_receipt_after_its_restart(
        tmp_path: Path, speech_server: FakeSpeechServer, points_cap: int | None) -> None:
    """The receipt waiting for the transcript is stored with the suggestion, held back only
    as long as the server may take: after a kill -9 the restarted bot sends it, without it.
    Over today's points too, where the receipt also says so."""
    data = tmp_path / "data"
    data.mkdir()
    engine = open_database(f"sqlite:///{data / 'yehua.db'}")
    add_group(engine, "枫树村大群", chat_id=ROOM)
    speech_server.transcriptions.set_mode("slow", slow_s=60)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bot_env(data, YEHUA_PORT=str(port), YEHUA_ASR_URL=speech_server.url,
                  YEHUA_ASR_MODEL="sensevoice-small", YEHUA_ASR_API_KEY=KEY,
                  YEHUA_ASR_TIMEOUT="2")
    receipt = RECEIPT
    if points_cap is not None:
        env["YEHUA_WEBCHAT_POINTS_PER_DAY"] = str(points_cap)
        receipt += "\n" + texts.LIMIT_POINTS_TODAY.format(limit=points_cap)
    bot = await start_yehua(env=env)
    try:
        await serving(url)
        async with joined(url, ZHANG) as zhang:
            await say_by_voice(url, ZHANG)
            await zhang.sees("记成建议")
            await zhang.say("是")
            await eventually(lambda: speech_server.transcription_requests, 30)
    finally:
        os.kill(bot.pid, signal.SIGKILL)
        await bot.wait()
    assert _receipts(engine) == [], "killed while the server was still listening"

    bot = await start_yehua(env=env)
    try:
        await eventually(lambda: _receipts(engine), 60)
    finally:
        bot.terminate()
        await bot.wait()
    assert _receipts(engine) == [receipt]
    with session(engine) as db:
        stored = db.exec(select(Suggestion)).all()
    engine.dispose()
    assert [(row.id, row.author_id, bool(row.voice_path)) for row in stored] == [
        (1, ZHANG[0], True)]


def _receipts(engine: Engine) -> list[str]:
    """The receipts the room holds for 张大爷's voice suggestion."""
    with session(engine) as db:
        rows = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))
                       .order_by(col(ChatMessage.id))).all()
    return [row.text for row in rows if "第 1 号" in row.text]


async def test_a_qq_voice_with_a_picture_killed_while_the_server_thinks_is_answered_after_restart(
        tmp_path: Path, speech_server: FakeSpeechServer, napcat: FakeNapCat) -> None:
    """A voice that came with a picture gets a receipt saying whether the picture was kept,
    made once it is: that receipt too is stored at once and held only while the server may
    take, so after a kill -9 the restarted bot sends it."""
    data = tmp_path / "data"
    data.mkdir()
    engine = open_database(f"sqlite:///{data / 'yehua.db'}")
    add_group(engine, "枫树村QQ群", platform="onebot", chat_id=str(QQ_GROUP))
    napcat.voices["4f0c1d2e.amr"] = recording(3.0, container="mp3", codec="libmp3lame",
                                              rate=24_000, bit_rate=48_000)
    speech_server.transcriptions.set_mode("slow", slow_s=60)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = onebot_env(data, port, napcat, YEHUA_ASR_URL=speech_server.url,
                     YEHUA_ASR_MODEL="sensevoice-small", YEHUA_ASR_API_KEY=KEY,
                     YEHUA_ASR_TIMEOUT="2")
    receipt = texts.PHOTO_RAISED.format(number=1)

    def receipts() -> list[str]:
        return [s.text for s in napcat.sent if "第 1 号" in s.text]

    bot = await start_yehua(env=env)
    try:
        await serving(url)
        event = napcat.group_message(QQ_GROUP, QQ_ZHANG, [
            *said("建议"), {"type": "record", "data": {"file": "4f0c1d2e.amr"}},
            napcat.image_segment(picture(800, 600))], card="张大爷")
        assert (await napcat.post_event(url, event))[0] == 204
        await eventually(lambda: speech_server.transcription_requests, 30)
    finally:
        os.kill(bot.pid, signal.SIGKILL)
        await bot.wait()
    assert receipts() == [], "killed while the server was still listening"

    bot = await start_yehua(env=env)
    try:
        await eventually(receipts, 60)
    finally:
        bot.terminate()
        await bot.wait()
    engine.dispose()
    assert [text.split("\n")[0] for text in receipts()] == [receipt]

