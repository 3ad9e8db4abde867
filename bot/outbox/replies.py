"""The reply queue: the bot's answers to chat messages, sent in the background in chat order."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from bot.core.messages import OutgoingText
from bot.outbox import Outbox

log = logging.getLogger(__name__)


class Replies:
    """The bot's answers, sent in the background: a platform's webhook is acknowledged as soon
    as what it brought is stored, however long the outbox's pacing keeps the answer waiting.

    Each chat has one queue and one task sending from it, in order, so a thousand waiting
    answers cost a list entry each rather than a task and a lock waiter each.
    """

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], deque[OutgoingText]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, outbox: Outbox, platform: str, chat_id: str, message: OutgoingText) -> None:
        """Queue one answer after the chat's earlier ones."""
        key = (platform, chat_id)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(message)
            return
        self._queues[key] = deque([message])
        task = asyncio.create_task(self._send_all(outbox, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_all(self, outbox: Outbox, key: tuple[str, str]) -> None:
        platform, chat_id = key
        queue = self._queues[key]
        try:
            while queue:
                try:
                    await outbox.send(platform, chat_id, [queue.popleft()])
                except Exception:  # the error boundary of one answer: log it, go on
                    log.exception("could not answer in %s/%s", platform, chat_id)
        finally:
            del self._queues[key]

    async def drain(self, within: float | None = None) -> None:
        """Wait for the answers under way (at most `within` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)

    async def close(self, within: float = 5.0) -> None:
        """Let queued answers go out for a moment, then cancel the rest."""
        await self.drain(within)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
