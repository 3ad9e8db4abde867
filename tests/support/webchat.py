"""The web chat adapter alone, with its rooms: socket helpers shared by its tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.adapters.webchat.adapter import WebChatAdapter
from bot.core.db import session
from bot.core.messages import IncomingMessage
from bot.core.models import ChatMessage
from tests.support.builders import add_group

ROOM = "demo"
WAIT = 10


@dataclass
class Chat:
    """The adapter under test, an HTTP client for its app, and what on_event received."""

    adapter: WebChatAdapter
    client: TestClient[Any, Any]
    events: asyncio.Queue[IncomingMessage]
    engine: Engine
    audio_dir: Path



def seed_rooms(engine: Engine) -> None:
    """The rooms the web chat serves, and one group on another platform it must not."""
    add_group(engine, "枫树村大群", chat_id=ROOM, hamlet="上屋场")
    add_group(engine, "下屋场群", chat_id="quiet")
    add_group(engine, "电报群", platform="telegram", chat_id="-100")


async def join(chat: Chat, name: str, user_id: str) -> Any:
    """Open a socket and say hello; return it once the server has accepted the name."""
    ws = await chat.client.ws_connect(f"/ws/{ROOM}")
    await ws.send_json({"type": "hello", "user_id": user_id, "name": name})
    ready = await ws.receive_json(timeout=WAIT)
    assert ready["type"] == "ready"
    return ws


async def next_message(ws: Any) -> dict[str, Any]:
    reply = await ws.receive_json(timeout=WAIT)
    assert reply["type"] == "message", reply
    message: dict[str, Any] = reply["message"]
    return message


def stored_messages(engine: Engine) -> list[ChatMessage]:
    with session(engine) as db:
        return list(db.exec(select(ChatMessage).order_by(col(ChatMessage.id))))


