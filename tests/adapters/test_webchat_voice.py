"""Voice messages in the web chat: real WebM and OGG recordings over real HTTP and WebSockets."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData, web
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.adapters.media import Media
from bot.adapters.webchat.adapter import WebChatAdapter
from bot.core.db import session
from bot.core.messages import IncomingMessage, OutgoingText
from bot.core.models import Member
from bot.domain.webchat import WebChatStore
from lessons.audio import probe
from tests.support.recordings import recording
from tests.support.webchat import ROOM, WAIT, Chat, join, next_message, seed_rooms, stored_messages

ZHANG = "user-zhang-0001"
LI = "user-li-000002"


@pytest.fixture
async def chat(aiohttp_client: Any, engine: Engine, tmp_path: Path) -> AsyncIterator[Chat]:
    seed_rooms(engine)
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    events: asyncio.Queue[IncomingMessage] = asyncio.Queue()
    media = Media(audio_dir)
    adapter = WebChatAdapter(WebChatStore(engine), media, on_event=events.put)
    app = web.Application(client_max_size=2 * 1024 * 1024)  # as the real app is built
    media.setup(app)  # as the app does: /media/ is served once, for every adapter
    adapter.setup(app)
    yield Chat(adapter, await aiohttp_client(app), events, engine, audio_dir)


async def send_voice(chat: Chat, audio: bytes | None, *, user_id: str | None = ZHANG,
                     name: str | None = None, room: str = ROOM) -> tuple[int, dict[str, Any]]:
    form = FormData()
    if user_id is not None:
        form.add_field("user_id", user_id)
    if name is not None:
        form.add_field("name", name)
    if audio is not None:
        form.add_field("audio", audio, filename="voice.webm", content_type="audio/webm")
    response = await chat.client.post(f"/api/rooms/{room}/voice", data=form)
    body: dict[str, Any] = await response.json()
    return response.status, body


async def test_a_voice_message_is_stored_served_as_mp3_and_heard_live_by_others(
        chat: Chat) -> None:
    zhang = await join(chat, "张大爷", ZHANG)
    li = await join(chat, "李婶", LI)
    status, body = await send_voice(chat, recording(3.0))
    assert status == 201

    live = await next_message(li)
    assert live == body["message"] == await next_message(zhang)
    assert live["sender_name"] == "张大爷"
    assert live["text"] == ""
    assert live["from_bot"] is False
    assert live["audio_duration"] == pytest.approx(3.0, abs=0.2)
    assert re.fullmatch(r"/media/[0-9a-f]{32}\.mp3", live["audio_url"])

    served = await chat.client.get(live["audio_url"])
    assert served.status == 200
    assert served.headers["Content-Type"] == "audio/mpeg"
    heard = probe(await served.read())
    assert heard.codec == "mp3"
    assert heard.duration_s == pytest.approx(3.0, abs=0.2)

    event = await asyncio.wait_for(chat.events.get(), WAIT)
    assert event == IncomingMessage(
        platform="web", chat_id=ROOM, message_id=str(live["id"]), user_id=ZHANG,
        user_name="张大爷", text="", voice=chat.audio_dir / live["audio_url"][7:])
    assert event.voice is not None and event.voice.read_bytes() == await served.read()

    history = await (await chat.client.get(f"/api/rooms/{ROOM}/messages")).json()
    assert [m["audio_url"] for m in history["messages"]] == [live["audio_url"]]


@pytest.mark.parametrize("container, codec", [
    ("ogg", "libopus"),  # Firefox
    ("mp4", "aac"),  # Safari on iPhones
])
async def test_other_browsers_recordings_with_a_name_need_no_hello_and_record_the_member(
        chat: Chat, container: str, codec: str) -> None:
    status, body = await send_voice(chat, recording(2.0, container=container, codec=codec),
                                    user_id=LI, name=" 李 婶 ")
    assert status == 201
    assert body["message"]["sender_name"] == "李 婶"
    assert body["message"]["audio_duration"] == pytest.approx(2.0, abs=0.2)
    with session(chat.engine) as db:
        members = list(db.exec(select(Member)))
    assert [(m.user_id, m.display_name) for m in members] == [(LI, "李 婶")]
    assert len(stored_messages(chat.engine)) == 1


def garbage() -> bytes:
    return os.urandom(20_000)


@pytest.mark.parametrize("case, expected_status, says", [
    ("too big", 413, "太大了"),
    ("a byte too big", 413, "太大了"),
    ("too long", 400, "最长 2 分钟"),
    ("garbage", 400, "打不开"),
    ("silence", 400, "说话时间太短了"),
    ("a blink", 400, "说话时间太短了"),
    ("empty file", 400, "说话时间太短了"),
    ("no audio field", 400, "这条没发成"),
    ("unknown room", 404, "找不到这个群"),
    ("no user id", 400, "认不出是谁在发"),
    ("forged user id", 400, "认不出是谁在发"),
    ("stranger without a name", 400, "请先写上名字"),
    ("name too long", 400, "1 到 20 个字"),
])
async def test_unfit_voice_is_refused_in_chinese_and_nothing_is_kept(
        chat: Chat, case: str, expected_status: int, says: str) -> None:
    listener = await join(chat, "张大爷", ZHANG)
    audio: bytes | None = recording(2.0)
    user_id: str | None = ZHANG
    name, room = None, ROOM
    match case:
        case "too big":
            audio = recording(2.0) + os.urandom(2 * 1024 * 1024)
        case "a byte too big":
            audio = bytes(2 * 1024 * 1024 + 1)
        case "too long":
            audio = recording(125.0, rate=16_000, bit_rate=12_000)
            assert len(audio) < 2 * 1024 * 1024
        case "garbage":
            audio = garbage()
        case "silence":
            audio = recording(3.0, loud=0.0)
        case "a blink":
            audio = recording(0.3)
        case "empty file":
            audio = b""
        case "no audio field":
            audio = None
        case "unknown room":
            room = "nowhere"
        case "no user id":
            user_id = None
        case "forged user id":
            user_id = "../../etc"
        case "stranger without a name":
            user_id = LI
        case "name too long":
            name = "名" * 21
    status, body = await send_voice(chat, audio, user_id=user_id, name=name, room=room)
    assert status == expected_status
    assert says in body["error"]
    assert stored_messages(chat.engine) == []
    assert list(chat.audio_dir.iterdir()) == []
    assert chat.events.empty()
    with session(chat.engine) as db:
        assert [m.user_id for m in db.exec(select(Member))] == [ZHANG]
    # The room goes on: the member who was listening still hears the next post.
    await listener.send_json({"type": "post", "text": "还在"})
    assert (await next_message(listener))["text"] == "还在"


async def test_a_huge_declared_body_is_refused_before_it_is_read(chat: Chat) -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b"--x\r\nContent-Disposition: form-data; name=\"audio\"\r\n\r\n"
        yield bytes(64 * 1024)

    response = await chat.client.post(
        f"/api/rooms/{ROOM}/voice", data=endless(),
        headers={"Content-Type": "multipart/form-data; boundary=x",
                 "Content-Length": str(50 * 1024 * 1024)})
    assert response.status == 413
    assert "太大了" in (await response.json())["error"]
    assert stored_messages(chat.engine) == []


@pytest.mark.parametrize("content_type, body", [
    ("application/json", b'{"audio": "AAAA"}'),
    ("multipart/form-data; boundary=x", b"no boundary anywhere"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="audio"'
                                        b"\r\n\r\ncut short"),
    ("multipart/form-data; boundary=x", b"--x\r\nno header colon\r\n\r\nabc\r\n--x--\r\n"),
    ("multipart/form-data", b'--x\r\nContent-Disposition: form-data; name="audio"\r\n\r\n'
                            b"abc\r\n--x--\r\n"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="name"'
                                        b"\r\n\r\n\xff\xfe\r\n--x--\r\n"),
])
async def test_a_malformed_upload_gets_a_chinese_400(
        chat: Chat, content_type: str, body: bytes) -> None:
    response = await chat.client.post(f"/api/rooms/{ROOM}/voice", data=body,
                                      headers={"Content-Type": content_type})
    assert response.status == 400
    assert (await response.json())["error"] == "这条没发成，可能页面是旧的。请刷新页面再发一次。"
    assert stored_messages(chat.engine) == []


async def test_a_bot_reply_to_a_voice_message_quotes_it_as_voice(chat: Chat) -> None:
    ws = await join(chat, "张大爷", ZHANG)
    _, body = await send_voice(chat, recording(1.5))
    await next_message(ws)
    await chat.adapter.send(ROOM, OutgoingText("收到您的语音建议，是第 3 号。",
                                               reply_to=str(body["message"]["id"])))
    reply = await next_message(ws)
    assert reply["quote"] == {"id": body["message"]["id"], "sender_name": "张大爷",
                              "text": "[语音]", "sender_tag": body["message"]["sender_tag"]}
    assert reply["text"] == "收到您的语音建议，是第 3 号。"
