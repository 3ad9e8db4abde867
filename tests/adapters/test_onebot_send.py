"""OneBot sends against the fake NapCat: segments, long texts, voice, and every failure mapped."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.onebot.adapter import MAX_TEXT
from bot.core.adapter import AdapterError, RateLimits, RetryAfter
from bot.core.messages import OutgoingAudio, OutgoingText
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.onebot import TOKEN, FakeNapCat, fake_napcat
from tests.support.onebot import GROUP, ZHANG, adapter_of, with_onebot
from tests.support.polling import eventually
from tests.support.recordings import recording

LESSON = ("乡亲们好！今天这堂微党课讲电动车充电安全。" * 4 + "\n") * 60  # about 5,000 characters


def voice_file(settings: Settings) -> Path:
    """A lesson voice in the audio folder, named the way the bot names them."""
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    path = settings.audio_dir / f"{secrets.token_hex(16)}.mp3"
    path.write_bytes(recording(2.0, container="mp3", codec="libmp3lame", rate=24_000,
                               bit_rate=48_000))
    return path


async def test_text_carries_the_quote_and_the_mention_as_segments(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat)) as bot:
        message_id = await adapter_of(bot.app).send(str(GROUP), OutgoingText(
            "第 1 号建议已采纳。", reply_to="1888", mention=str(ZHANG)))
    [sent] = napcat.sent
    assert message_id == str(sent.message_id)
    assert sent.segments == [{"type": "reply", "data": {"id": "1888"}},
                             {"type": "at", "data": {"qq": str(ZHANG)}},
                             {"type": "text", "data": {"text": " "}},
                             {"type": "text", "data": {"text": "第 1 号建议已采纳。"}}]


async def test_a_long_lesson_is_split_at_sentence_ends_and_a_failed_piece_resumes(
    settings: Settings, napcat: FakeNapCat
) -> None:
    napcat.fail_next(1, "server_error", after=1)  # the second piece meets a 500
    message = OutgoingText(LESSON, reply_to="1888")
    async with running(with_onebot(settings, napcat)) as bot:
        adapter = adapter_of(bot.app)
        with pytest.raises(AdapterError) as failed:
            await adapter.send(str(GROUP), message)
        assert failed.value.transient  # the outbox will try again
        first = await adapter.send(str(GROUP), message)
    pieces = [s.text for s in napcat.sent]
    assert first == str(napcat.sent[0].message_id)
    assert len(pieces) == len(set(pieces)) == 3, "no piece posted twice"
    assert all(len(p) <= MAX_TEXT and p.endswith("。") for p in pieces)
    assert "".join(pieces).replace("\n", "") == LESSON.replace("\n", "")
    assert [s.first("reply") for s in napcat.sent] == [{"id": "1888"}, None, None]


async def test_voice_goes_as_an_inline_mp3_or_as_a_link_the_fake_fetches(
    settings: Settings, napcat: FakeNapCat
) -> None:
    path = voice_file(settings)
    audio = OutgoingAudio(path, 2.0, caption="电动车充电安全")
    async with running(with_onebot(settings, napcat)) as bot:
        await adapter_of(bot.app).send(str(GROUP), audio)
    async with running(with_onebot(settings, napcat, YEHUA_ONEBOT_VOICE="url")) as bot:
        adapter = adapter_of(bot.app)
        adapter.media.base_url = bot.url  # where NapCat reaches this bot (YEHUA_PUBLIC_URL)
        await adapter.send(str(GROUP), audio)
    inline, linked = napcat.sent
    assert inline.record_file.startswith("base64://")
    assert linked.first("record") == {"file": f"{bot.url}/media/{path.name}"}
    for sent in (inline, linked):
        assert sent.audio == path.read_bytes() and 1.5 < sent.audio_seconds < 2.5


@pytest.mark.parametrize("style", ["napcat", "gocq"])
async def test_too_fast_is_flood_control_however_the_implementation_says_it(
    settings: Settings, style: str
) -> None:
    async with fake_napcat(style=style, frequency=(2, 60.0)) as fake, \
            running(with_onebot(settings, fake)) as bot:
        adapter = adapter_of(bot.app)
        for n in range(2):
            await adapter.send(str(GROUP), OutgoingText(f"第{n}条。"))
        with pytest.raises(RetryAfter) as flood:
            await adapter.send(str(GROUP), OutgoingText("第3条。"))
    assert flood.value.seconds == pytest.approx(0.3)  # YEHUA_ONEBOT_FLOOD_PAUSE
    assert len(fake.sent) == 2 and fake.refused == ["frequency"]


async def test_failures_map_to_transient_or_final_errors(
    settings: Settings, napcat: FakeNapCat
) -> None:
    hello = OutgoingText("大家好。")
    async with running(with_onebot(settings, napcat, YEHUA_ONEBOT_TIMEOUT="0.5")) as bot:
        adapter = adapter_of(bot.app)
        napcat.fail_next(1, "server_error")
        with pytest.raises(AdapterError) as server:
            await adapter.send(str(GROUP), hello)
        napcat.fail_next(1, "hang")
        with pytest.raises(AdapterError) as slow:
            await adapter.send(str(GROUP), hello)
        napcat.fail_next(1, "ffmpeg")
        with pytest.raises(AdapterError) as no_ffmpeg:
            await adapter.send(str(GROUP), OutgoingAudio(voice_file(settings), 2.0))
        with pytest.raises(AdapterError) as not_a_group:
            await adapter.send("village", hello)
    assert server.value.transient and slow.value.transient
    assert not no_ffmpeg.value.transient and "ffmpeg" in str(no_ffmpeg.value)
    assert not not_a_group.value.transient
    assert napcat.sent == []


@pytest.mark.parametrize(("style", "token", "status"), [
    ("napcat", TOKEN, 403), ("napcat", "", 403), ("spec", TOKEN, 403), ("spec", "", 401)])
async def test_a_wrong_or_missing_token_is_a_final_error_naming_the_token(
    settings: Settings, style: str, token: str, status: int
) -> None:
    async with fake_napcat(style=style, token="the-real-token") as fake, \
            running(with_onebot(settings, fake, YEHUA_ONEBOT_ACCESS_TOKEN=token,
                                YEHUA_ONEBOT_ALLOW_NO_TOKEN="true")) as bot:
        with pytest.raises(AdapterError) as refused:
            await adapter_of(bot.app).send(str(GROUP), OutgoingText("大家好。"))
    assert not refused.value.transient and f"({status})" in str(refused.value)
    assert fake.sent == []


async def test_without_a_socket_or_an_api_root_sending_waits_for_a_connection(
    settings: Settings, napcat: FakeNapCat
) -> None:
    ws_only = with_onebot(settings, napcat, YEHUA_ONEBOT_API_ROOT="")
    async with running(ws_only) as bot:
        adapter = adapter_of(bot.app)
        with pytest.raises(AdapterError) as waiting:
            await adapter.send(str(GROUP), OutgoingText("大家好。"))
        assert waiting.value.transient
        async with napcat.reverse_ws(bot.url):
            await eventually(lambda: adapter.connected)
            await adapter.send(str(GROUP), OutgoingText("大家好。"))
    assert [s.via for s in napcat.sent] == ["ws"]


async def test_the_fake_takes_query_form_and_json_parameters_as_napcat_does(
    napcat: FakeNapCat
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        query = {"group_id": str(GROUP), "message": "你好&#91;一&#93;", "access_token": TOKEN}
        async with http.get(f"{napcat.url}/send_group_msg", params=query) as r:
            assert (await r.json())["status"] == "ok"
        async with http.post(f"{napcat.url}/send_msg/", data={
                "group_id": str(GROUP), "message": "[CQ:at,qq=1]你好"}, headers=auth) as r:
            assert (await r.json())["retcode"] == 0
        async with http.post(f"{napcat.url}/send_group_msg_async", json={
                "group_id": GROUP, "message": {"type": "text", "data": {"text": "三"}}},
                headers=auth) as r:
            assert (await r.json())["status"] == "async"
        async with http.post(f"{napcat.url}/get_login_info", headers=auth) as r:
            assert (await r.json())["data"]["user_id"] == napcat.self_id
        async with http.post(f"{napcat.url}/nope", headers=auth) as r:
            assert "不支持的Api" in (await r.json())["message"]
        async with http.post(f"{napcat.url}/get_login_info") as r:
            assert r.status == 403 and (await r.json())["message"] == "token verify failed!"
    assert [s.text for s in napcat.sent] == ["你好[一]", "你好", "三"]
    assert napcat.sent[1].first("at") == {"qq": "1"}


async def test_the_declared_limits_are_cautious_and_the_overall_rate_is_a_setting(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat,
                                   YEHUA_ONEBOT_SENDS_PER_SECOND="2")) as bot:
        limits = adapter_of(bot.app).limits
    assert replace(limits, account="") == RateLimits(global_per_second=2.0, chat_per_second=1,
                                                     chat_per_minute=20)
    assert limits.account.startswith("onebot:")  # the shared budget's key, no token in it
