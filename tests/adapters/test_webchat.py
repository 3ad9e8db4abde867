"""The built-in web group chat, over real HTTP and WebSockets against a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp import WSMsgType, web
from sqlalchemy.engine import Engine
from sqlmodel import select
from yarl import URL

from bot.adapters.media import Media
from bot.adapters.webchat.adapter import WebChatAdapter
from bot.core.adapter import AdapterError
from bot.core.db import session
from bot.core.messages import IncomingMessage, OutgoingAudio, OutgoingText
from bot.core.models import ChatMessage, Group, LessonRecord, Member
from bot.domain.webchat import WebChatStore
from tests.support.webchat import ROOM, WAIT, Chat, join, next_message, seed_rooms, stored_messages


@pytest.fixture
async def chat(aiohttp_client: Any, engine: Engine, tmp_path: Path) -> AsyncIterator[Chat]:
    seed_rooms(engine)
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    events: asyncio.Queue[IncomingMessage] = asyncio.Queue()
    media = Media(audio_dir)
    adapter = WebChatAdapter(WebChatStore(engine), media, on_event=events.put)
    app = web.Application()
    media.setup(app)  # as the app does: /media/ is served once, for every adapter
    adapter.setup(app)
    client = await aiohttp_client(app)
    yield Chat(adapter, client, events, engine, audio_dir)


def write_mp3(path: Path, seconds: float = 1.0, rate: int = 24000) -> bytes:
    """Encode real MP3 silence with PyAV, so the browser would have something to play."""
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        pts = 0
        while pts < seconds * rate:
            frame = av.AudioFrame(format="s16p", layout="mono", samples=1152)
            frame.planes[0].update(bytes(frame.planes[0].buffer_size))
            frame.sample_rate = rate
            frame.pts = pts
            pts += frame.samples
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path.read_bytes()


async def test_a_post_reaches_both_members_live_and_stays_after_reload(chat: Chat) -> None:
    zhang = await join(chat, "张大爷", "user-zhang-0001")
    li = await join(chat, "李婶", "user-li-000002")
    await zhang.send_json({"type": "post", "text": "村口路灯坏了"})
    seen_by_zhang, seen_by_li = await next_message(zhang), await next_message(li)
    assert seen_by_zhang == seen_by_li
    assert seen_by_li["sender_name"] == "张大爷"
    assert seen_by_li["text"] == "村口路灯坏了"
    assert seen_by_li["from_bot"] is False
    assert datetime.fromisoformat(seen_by_li["created_at"]).tzinfo is not None

    reload = await chat.client.get(f"/api/rooms/{ROOM}/messages")
    assert reload.status == 200
    history = await reload.json()
    assert [m["text"] for m in history["messages"]] == ["村口路灯坏了"]
    assert history["messages"][0]["id"] == seen_by_li["id"]
    assert history["has_more"] is False


async def test_own_messages_are_recognisable_but_user_ids_stay_private(chat: Chat) -> None:
    zhang = await chat.client.ws_connect(f"/ws/{ROOM}")
    await zhang.send_json({"type": "hello", "user_id": "user-zhang-0001", "name": "张大爷"})
    ready = await zhang.receive_json(timeout=WAIT)
    li = await join(chat, "李婶", "user-li-000002")
    await zhang.send_json({"type": "post", "text": "我来了"})
    message = await next_message(li)
    assert message["sender_tag"] == ready["tag"]
    assert "user-zhang-0001" not in json.dumps(message)
    assert (await next_message(zhang))["sender_tag"] == ready["tag"]
    await li.send_json({"type": "post", "text": "欢迎"})
    assert (await next_message(zhang))["sender_tag"] != ready["tag"]


async def test_history_pages_back_from_the_newest(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    for n in range(5):
        await ws.send_json({"type": "post", "text": f"第{n}条"})
        await next_message(ws)
    newest = await (await chat.client.get(f"/api/rooms/{ROOM}/messages?limit=2")).json()
    assert [m["text"] for m in newest["messages"]] == ["第3条", "第4条"]
    assert newest["has_more"] is True
    before = newest["messages"][0]["id"]
    older = await (await chat.client.get(
        f"/api/rooms/{ROOM}/messages?before={before}&limit=200")).json()
    assert [m["text"] for m in older["messages"]] == ["第0条", "第1条", "第2条"]
    assert older["has_more"] is False
    missed = await (await chat.client.get(
        f"/api/rooms/{ROOM}/messages?after={older['messages'][1]['id']}")).json()
    assert [m["text"] for m in missed["messages"]] == ["第2条", "第3条", "第4条"]


@pytest.mark.parametrize("query, parameter", [
    ("limit=abc", "limit"), ("limit=0", "limit"), ("limit=201", "limit"), ("limit=-5", "limit"),
    ("limit=1.5", "limit"), ("before=x", "before"), ("before=0", "before"), ("after=-1", "after"),
])
async def test_bad_paging_numbers_are_refused_naming_the_parameter(
        chat: Chat, query: str, parameter: str) -> None:
    response = await chat.client.get(f"/api/rooms/{ROOM}/messages?{query}")
    assert response.status == 400
    body = await response.json()
    assert body["parameter"] == parameter
    assert parameter in body["error"]


async def test_history_of_an_unknown_room_is_404(chat: Chat) -> None:
    response = await chat.client.get("/api/rooms/nowhere/messages")
    assert response.status == 404


async def test_bot_lesson_text_appears_live_with_its_title(chat: Chat) -> None:
    with session(chat.engine) as db:
        db.add(LessonRecord(slug="yihao-wenjian", title="一号文件讲了啥"))
    ws = await join(chat, "张大爷", "user-zhang-0001")
    message_id = await chat.adapter.send(
        ROOM, OutgoingText("今年的一号文件，说的是种粮补贴。", lesson_slug="yihao-wenjian"))
    live = await next_message(ws)
    assert str(live["id"]) == message_id
    assert live["from_bot"] is True
    assert live["sender_name"] == "夜话小助手"
    assert live["lesson_title"] == "一号文件讲了啥"
    assert live["audio_url"] is None
    assert stored_messages(chat.engine)[0].text == "今年的一号文件，说的是种粮补贴。"


async def test_bot_audio_appears_live_and_is_served_as_mp3(chat: Chat) -> None:
    mp3 = write_mp3(chat.audio_dir / "0123456789abcdef0123.mp3")
    ws = await join(chat, "张大爷", "user-zhang-0001")
    message_id = await chat.adapter.send(ROOM, OutgoingAudio(
        chat.audio_dir / "0123456789abcdef0123.mp3", duration_s=1.0, caption="听一听",
        lesson_slug="yihao-wenjian"))
    live = await next_message(ws)
    assert str(live["id"]) == message_id
    assert live["audio_url"] == "/media/0123456789abcdef0123.mp3"
    assert live["audio_duration"] == 1.0
    assert live["text"] == "听一听"

    response = await chat.client.get(live["audio_url"])
    assert response.status == 200
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert await response.read() == mp3
    part = await chat.client.get(live["audio_url"], headers={"Range": "bytes=0-99"})
    assert part.status == 206
    assert await part.read() == mp3[:100]


async def test_audio_the_media_route_cannot_serve_is_refused(chat: Chat, tmp_path: Path) -> None:
    outside = tmp_path / "0123456789abcdef0123.mp3"
    write_mp3(outside)
    badly_named = chat.audio_dir / "lesson.mp3"
    badly_named.write_bytes(outside.read_bytes())
    (chat.audio_dir / "fedcba9876543210fedc.mp3").symlink_to(outside)
    for path in (outside, badly_named, chat.audio_dir / "fedcba9876543210fedc.mp3",
                 chat.audio_dir / ".." / "0123456789abcdef0123.mp3",
                 chat.audio_dir / "00000000000000000000.mp3"):
        with pytest.raises(AdapterError):
            await chat.adapter.send(ROOM, OutgoingAudio(path, duration_s=1.0))
    assert stored_messages(chat.engine) == []


async def test_sending_to_an_unknown_room_fails(chat: Chat) -> None:
    with pytest.raises(AdapterError, match="no such web room"):
        await chat.adapter.send("nowhere", OutgoingText("你好"))
    with pytest.raises(AdapterError, match="no such web room"):
        await chat.adapter.send("-100", OutgoingText("你好"))


@pytest.mark.parametrize("path", [
    "/media/../etc/passwd", "/media/..%2F0123456789abcdef.mp3",
    "/media/%2e%2e%2f0123456789abcdef.mp3",
    "/media/0123456789abcdef.exe", "/media/0123456789ABCDEF.mp3", "/media/0123.mp3",
    "/media/0123456789abcdef.mp3%0a", "/media/.0123456789abcdef.mp3", "/media/notes.srt",
    "/media/ffffffffffffffff.mp3", "/media/aaaaaaaaaaaaaaaa.mp3",
])
async def test_media_refuses_traversal_odd_and_missing_names(
        chat: Chat, tmp_path: Path, path: str) -> None:
    write_mp3(chat.audio_dir / "0123456789abcdef.mp3")
    write_mp3(tmp_path / "0123456789abcdef.mp3")
    (chat.audio_dir / "0123456789abcdef.exe").write_bytes(b"MZ")
    (chat.audio_dir / "aaaaaaaaaaaaaaaa.mp3").symlink_to(tmp_path / "0123456789abcdef.mp3")
    assert (await chat.client.get("/media/0123456789abcdef.mp3")).status == 200
    response = await chat.client.get(URL(path, encoded=True))
    assert response.status == 404


async def test_markup_in_a_post_stays_text_everywhere(chat: Chat) -> None:
    ws = await join(chat, "<b>王</b>", "user-wang-00001")
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    await ws.send_json({"type": "post", "text": attack})
    live = await next_message(ws)
    assert live["text"] == attack
    assert live["sender_name"] == "<b>王</b>"
    page = await chat.client.get(f"/room/{ROOM}")
    html = await page.text()
    assert page.status == 200
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>王</b>" not in html
    history = await (await chat.client.get(f"/api/rooms/{ROOM}/messages")).json()
    assert history["messages"][0]["text"] == attack


async def test_markup_in_names_is_escaped_on_the_room_list(chat: Chat) -> None:
    with session(chat.engine) as db:
        db.add(Group(platform="web", chat_id="x", name="<script>bad()</script>"))
    html = await (await chat.client.get("/")).text()
    assert "<script>bad()" not in html
    assert "&lt;script&gt;bad()" in html


@pytest.mark.parametrize("frame", [
    json.dumps({"type": "post", "text": "   "}),
    json.dumps({"type": "post", "text": "长" * 2001}),
    json.dumps({"type": "post", "text": 5}),
    json.dumps({"type": "shout", "text": "你好"}),
    json.dumps(["post"]),
    "这不是JSON",
])
async def test_bad_posts_get_an_error_store_nothing_and_spare_others(
        chat: Chat, frame: str) -> None:
    zhang = await join(chat, "张大爷", "user-zhang-0001")
    li = await join(chat, "李婶", "user-li-000002")
    await zhang.send_str(frame)
    error = await zhang.receive_json(timeout=WAIT)
    assert error["type"] == "error"
    assert error["text"]
    assert stored_messages(chat.engine) == []
    await li.send_json({"type": "post", "text": "我还在"})
    assert (await next_message(zhang))["text"] == "我还在"
    assert (await next_message(li))["text"] == "我还在"


async def test_posting_before_hello_is_refused(chat: Chat) -> None:
    ws = await chat.client.ws_connect(f"/ws/{ROOM}")
    await ws.send_json({"type": "post", "text": "我是谁"})
    error = await ws.receive_json(timeout=WAIT)
    assert error == {"type": "error", "text": "请先写上名字，再发言。"}
    assert stored_messages(chat.engine) == []
    assert chat.events.empty()


@pytest.mark.parametrize("hello", [
    {"type": "hello", "user_id": "user-zhang-0001", "name": ""},
    {"type": "hello", "user_id": "user-zhang-0001", "name": "   "},
    {"type": "hello", "user_id": "user-zhang-0001", "name": "名" * 21},
    {"type": "hello", "user_id": "user-zhang-0001"},
    {"type": "hello", "user_id": "short", "name": "张大爷"},
    {"type": "hello", "user_id": "../../etc", "name": "张大爷"},
])
async def test_a_bad_hello_is_refused_and_posting_stays_closed(
        chat: Chat, hello: dict[str, str]) -> None:
    ws = await chat.client.ws_connect(f"/ws/{ROOM}")
    await ws.send_json(hello)
    assert (await ws.receive_json(timeout=WAIT))["type"] == "error"
    await ws.send_json({"type": "post", "text": "你好"})
    assert (await ws.receive_json(timeout=WAIT))["type"] == "error"
    assert stored_messages(chat.engine) == []
    with session(chat.engine) as db:
        assert list(db.exec(select(Member))) == []


async def test_hello_records_the_member_and_a_new_name_replaces_the_old(chat: Chat) -> None:
    await join(chat, "张大爷", "user-zhang-0001")
    await join(chat, "  张  老汉 ", "user-zhang-0001")
    with session(chat.engine) as db:
        members = list(db.exec(select(Member)))
    assert [(m.user_id, m.display_name) for m in members] == [("user-zhang-0001", "张 老汉")]


async def test_on_event_receives_the_post_as_an_incoming_message(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await ws.send_json({"type": "post", "text": "建议 修水渠"})
    live = await next_message(ws)
    event = await asyncio.wait_for(chat.events.get(), WAIT)
    assert event == IncomingMessage(platform="web", chat_id=ROOM, message_id=str(live["id"]),
                                    user_id="user-zhang-0001", user_name="张大爷",
                                    text="建议 修水渠")


async def test_a_failing_handler_keeps_the_post_and_the_socket(chat: Chat) -> None:
    async def broken(_event: IncomingMessage) -> None:
        raise RuntimeError("handler bug")

    chat.adapter.on_event = broken
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await ws.send_json({"type": "post", "text": "第一条"})
    await next_message(ws)
    await ws.send_json({"type": "post", "text": "第二条"})
    assert (await next_message(ws))["text"] == "第二条"
    assert [m.text for m in stored_messages(chat.engine)] == ["第一条", "第二条"]


async def test_room_list_shows_web_rooms_with_last_message_and_notice(chat: Chat) -> None:
    with session(chat.engine) as db:
        group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
        assert group.id is not None
        db.add(ChatMessage(group_id=group.id, sender_id="u", sender_name="张大爷", text="早",
                           created_at=datetime(2024, 3, 5, 12, 0, tzinfo=UTC)))
    chat.adapter.notice = "这是演示群，消息每分钟来一条。"
    response = await chat.client.get("/")
    html = await response.text()
    assert response.status == 200
    assert "夜话 · 村里的群聊：听微党课、提建议" in html
    assert "这是演示群，消息每分钟来一条。" in html
    assert 'href="/room/demo"' in html and "枫树村大群" in html and "上屋场" in html
    assert "3月5日 20:00" in html
    assert 'href="/room/quiet"' in html and "还没有人说话" in html
    assert "电报群" not in html


async def test_room_page_has_the_hooks_the_browser_test_uses(chat: Chat) -> None:
    response = await chat.client.get(f"/room/{ROOM}")
    html = await response.text()
    assert response.status == 200
    assert "枫树村大群" in html
    for hook in ("name-input", "join-button", "message-box", "send-button", "record-button",
                 "recording-bar", "voice-cancel-button"):
        assert f'data-testid="{hook}"' in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    script = await chat.client.get("/static/chat.js")
    assert script.status == 200
    code = await script.text()
    assert 'setAttribute("data-testid", "message")' in code
    assert 'player(m, "lesson-audio")' in code and 'player(m, "voice-audio")' in code
    assert 'setAttribute("data-testid", "listened-button")' in code
    assert (await chat.client.get("/static/chat.css")).status == 200
    voice = await chat.client.get("/static/chat-voice.js")
    assert voice.status == 200
    assert "MediaRecorder" in await voice.text()


async def test_unknown_room_gets_a_chinese_404_page(chat: Chat) -> None:
    response = await chat.client.get("/room/nowhere")
    assert response.status == 404
    assert "找不到这个群" in await response.text()
    assert (await chat.client.get("/room/-100")).status == 404
    assert (await chat.client.get("/ws/nowhere")).status == 404


async def test_shutting_down_closes_open_sockets(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await chat.client.app.shutdown()
    closing = await ws.receive(timeout=WAIT)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


async def test_a_bot_reply_shows_a_quote_of_the_message_it_answers(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await ws.send_json({"type": "post",
                        "text": "建议 村口的路灯坏了好几天了，晚上出门看不见路，请村里派人修一修"})
    asked = await next_message(ws)
    await chat.adapter.send(ROOM, OutgoingText("收到，记下了，是第 12 号。",
                                               reply_to=str(asked["id"])))
    live = await next_message(ws)
    quote = {"id": asked["id"], "sender_name": "张大爷",
             "text": "建议 村口的路灯坏了好几天了，晚上出门看不见路，请村里派人修…",
             "sender_tag": asked["sender_tag"]}  # so the asker's page knows it is theirs
    assert live["quote"] == quote
    assert live["text"] == "收到，记下了，是第 12 号。"
    history = await (await chat.client.get(f"/api/rooms/{ROOM}/messages")).json()
    assert [m["quote"] for m in history["messages"]] == [None, quote]
    assert history["messages"][1]["text"] == live["text"]
    page = await (await chat.client.get(f"/room/{ROOM}")).text()
    assert "\\u001e" not in page and '"quote": {' in page


async def test_a_reply_to_a_bot_reply_quotes_its_words_only(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await ws.send_json({"type": "post", "text": "/积分"})
    asked = await next_message(ws)
    first = await chat.adapter.send(ROOM, OutgoingText("您有 3 分", reply_to=str(asked["id"])))
    await next_message(ws)
    await chat.adapter.send(ROOM, OutgoingText("又加了 2 分", reply_to=first))
    assert (await next_message(ws))["quote"]["text"] == "您有 3 分"


@pytest.mark.parametrize("reply_to", ["99999", "abc", "", "١٢", "-1"])
async def test_a_reply_to_an_unknown_message_is_posted_without_a_quote(
        chat: Chat, reply_to: str) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await chat.adapter.send(ROOM, OutgoingText("好的", reply_to=reply_to))
    live = await next_message(ws)
    assert live["quote"] is None
    assert live["text"] == "好的"


async def test_a_reply_never_quotes_a_message_from_another_room(chat: Chat) -> None:
    other = await chat.client.ws_connect("/ws/quiet")
    await other.send_json({"type": "hello", "user_id": "user-wang-00001", "name": "王叔"})
    assert (await other.receive_json(timeout=WAIT))["type"] == "ready"
    await other.send_json({"type": "post", "text": "下屋场的私事"})
    secret = await next_message(other)
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await chat.adapter.send(ROOM, OutgoingText("好的", reply_to=str(secret["id"])))
    live = await next_message(ws)
    assert live["quote"] is None
    assert "私事" not in json.dumps(live, ensure_ascii=False)


async def test_a_mention_names_the_member_in_front_of_the_text(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await chat.adapter.send(ROOM, OutgoingText("第 12 号建议已采纳。", mention="user-zhang-0001"))
    assert (await next_message(ws))["text"] == "@张大爷 第 12 号建议已采纳。"
    await chat.adapter.send(ROOM, OutgoingText("没这个人", mention="user-nobody-0001"))
    assert (await next_message(ws))["text"] == "没这个人"


async def test_a_member_cannot_forge_a_quote(chat: Chat) -> None:
    ws = await join(chat, "张大爷", "user-zhang-0001")
    await ws.send_json({"type": "post", "text": "第一条"})
    first = await next_message(ws)
    await ws.send_json({"type": "post", "text": f"好\x1e{first['id']}\x1e假装回复"})
    forged = await next_message(ws)
    assert forged["quote"] is None
    # The separators are control characters: dropped on the way in, so nothing is quoted.
    assert forged["text"] == f"好{first['id']}假装回复"
