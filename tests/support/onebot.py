"""The bot on QQ through the fake NapCat: the QQ groups, settings and what was said."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import col, select

from bot.adapters.onebot.adapter import OneBotAdapter
from bot.app import ENGINE, OUTBOX
from bot.core.db import session
from bot.core.models import Suggestion
from bot.settings import Settings
from tests.support.builders import add_group
from tests.support.fakes.onebot import SECRET, SELF_ID, TOKEN, FakeNapCat
from tests.support.process import bot_env

GROUP, OTHER_GROUP = 987654321, 987654322
OWNER, ADMIN, ZHANG, LI = 345678900, 345678904, 345678901, 345678902



def with_onebot(settings: Settings, napcat: FakeNapCat, **extra: str) -> Settings:
    """Settings with OneBot on, pointed at the fake, and a short flood pause for tests."""
    env = {"YEHUA_ONEBOT_API_ROOT": napcat.url, "YEHUA_ONEBOT_ACCESS_TOKEN": TOKEN,
           "YEHUA_ONEBOT_SECRET": SECRET, "YEHUA_ONEBOT_FLOOD_PAUSE": "0.3",
           "YEHUA_ONEBOT_TIMEOUT": "5"}
    return replace(settings, extra={**env, **extra})


def onebot_env(data: Path, port: int, napcat: FakeNapCat, **extra: str) -> dict[str, str]:
    """`python -m bot`'s environment (`bot_env`) with OneBot on, pointed at the fake."""
    return bot_env(data, YEHUA_PORT=str(port), YEHUA_ONEBOT_API_ROOT=napcat.url,
                   YEHUA_ONEBOT_ACCESS_TOKEN=TOKEN, YEHUA_ONEBOT_SECRET=SECRET,
                   YEHUA_ONEBOT_TIMEOUT="30", **extra)


def prepare_qq_groups(app: web.Application) -> None:
    """Two QQ groups the admin added with `yehua groups add … --platform onebot`."""
    add_group(app[ENGINE], "枫树村QQ群", platform="onebot", chat_id=str(GROUP), hamlet="上屋场")
    add_group(app[ENGINE], "樟树村QQ群", platform="onebot", chat_id=str(OTHER_GROUP))


def said(text: str, *, at_bot: bool = False) -> list[dict[str, Any]]:
    segments = [{"type": "at", "data": {"qq": str(SELF_ID)}}] if at_bot else []
    return [*segments, {"type": "text", "data": {"text": text}}]


def stored(app: web.Application) -> list[Suggestion]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


def adapter_of(app: web.Application) -> OneBotAdapter:
    adapter = app[OUTBOX].adapter("onebot")
    assert isinstance(adapter, OneBotAdapter)
    return adapter
