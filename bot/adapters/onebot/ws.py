"""OneBot v11 reverse WebSocket: NapCat connects to us; events come in, API calls go back."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from bot.adapters.onebot.wire import check_response
from bot.adapters.wire import BadJson, read_json
from bot.core.adapter import AdapterError

log = logging.getLogger(__name__)

MAX_FRAME = 32 * 1024 * 1024  # get_record answers carry the whole recording in base64
EVENT_WORKERS = 64  # events handled at once per connection

EventCallback = Callable[[dict[str, Any]], Awaitable[None]]


class ReverseConnection:
    """One WebSocket a OneBot implementation opened to us, with API calls matched by echo."""

    def __init__(self, ws: web.WebSocketResponse, self_id: str, role: str, *, wait: float,
                 flood_pause: float) -> None:
        self.ws = ws
        self.wait = wait  # seconds an API call waits for its answer
        self.flood_pause = flood_pause
        self.self_id = self_id
        self.role = role  # X-Client-Role: Universal, API or Event
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._echoes = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._workers = asyncio.Semaphore(EVENT_WORKERS)

    @property
    def can_call(self) -> bool:
        """Whether API calls may go over this socket (an Event-only socket takes none)."""
        return not self.ws.closed and self.role.lower() != "event"

    async def call(self, action: str, params: dict[str, Any]) -> Any:
        """Send one API frame and wait for the answer that echoes it."""
        echo = f"yehua-{next(self._echoes)}"
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[echo] = answer
        try:
            await self.ws.send_str(json.dumps({"action": action, "params": params, "echo": echo},
                                              ensure_ascii=False))
            async with asyncio.timeout(self.wait):
                body = await answer
        except TimeoutError as exc:
            raise AdapterError(f"OneBot {action}: no answer over WebSocket within {self.wait} s",
                               transient=True) from exc
        except ConnectionError as exc:
            raise AdapterError(f"OneBot {action}: WebSocket gone: {exc}", transient=True) from exc
        finally:
            self._pending.pop(echo, None)
        return check_response(action, 200, body, flood_pause=self.flood_pause)

    async def serve(self, on_event: EventCallback) -> None:
        """Read frames until the socket closes: answers resolve calls, events go to tasks."""
        try:
            async for frame in self.ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                try:
                    data = read_json(frame.data)
                except BadJson as exc:
                    # One bad frame is dropped; the socket and the frames after it go on.
                    log.warning("onebot: a frame refused from %s: %s", self.self_id, exc)
                    continue
                if not isinstance(data, dict):
                    continue
                if "post_type" in data:
                    # Handled beside the reader: an event's answer is an API call whose reply
                    # must be read by this very loop.
                    task = asyncio.create_task(self._handle(on_event, data))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif (future := self._pending.get(str(data.get("echo")))) and not future.done():
                    future.set_result(data)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the WebSocket closed"))
            # Events already taken are seen through (their answers go by HTTP or wait for the
            # next socket); cancelling this handler cancels them with it.
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, on_event: EventCallback, data: dict[str, Any]) -> None:
        async with self._workers:
            await on_event(data)

    async def close(self) -> None:
        """Close the socket and cancel, then await, the events still being handled."""
        await self.ws.close(message=b"shutdown")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
