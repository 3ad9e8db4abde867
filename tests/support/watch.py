"""Browsers in a web room that keep everything they are shown, for tests of several instances."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.support.polling import eventually
from tests.support.village import joined


@dataclass
class Watcher:
    """One browser in the room: what it posts, and every message it was shown, in order."""

    ws: aiohttp.ClientWebSocketResponse
    name: str
    shown: list[dict[str, Any]] = field(default_factory=list)

    async def post(self, text: str) -> None:
        await self.ws.send_json({"type": "post", "text": text})

    def with_text(self, fragment: str) -> list[dict[str, Any]]:
        """The messages shown whose text holds `fragment`."""
        return [message for message in self.shown if fragment in message["text"]]

    async def sees(self, fragment: str, within: float = 10.0) -> dict[str, Any]:
        """Wait until a message with `fragment` is shown; return the first such."""
        found = await eventually(lambda: self.with_text(fragment), within=within)
        return found[0]

    @property
    def ids(self) -> list[int]:
        return [message["id"] for message in self.shown]

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                data = frame.json()
                if data["type"] == "message":
                    self.shown.append(data["message"])


@asynccontextmanager
async def watching(url: str, who: tuple[str, str]) -> AsyncIterator[Watcher]:
    """Open the room at `url` as `who` (user id, name), say hello, and keep what is shown."""
    async with joined(url, who) as person:
        watcher = Watcher(person.ws, who[1])
        reader = asyncio.create_task(watcher._read())
        try:
            yield watcher
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
