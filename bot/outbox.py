"""The outbox: the only path that sends; keeps each chat in order and retries what may pass."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence

from bot.adapters import Adapter, AdapterError, RetryAfter
from bot.messages import OutgoingMessage

log = logging.getLogger(__name__)


class Outbox:
    """Sends batches of messages per chat, in order, pausing a platform under flood control."""

    def __init__(self, adapters: Mapping[str, Adapter], *, attempts: int = 5,
                 backoff: float = 1.0, max_backoff: float = 60.0) -> None:
        self.adapters = dict(adapters)
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._chat_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._resume_at: dict[str, float] = {}

    def adapter(self, platform: str) -> Adapter:
        try:
            return self.adapters[platform]
        except KeyError:
            raise AdapterError(f"platform {platform!r} is not switched on") from None

    async def send(self, platform: str, chat_id: str,
                   messages: Sequence[OutgoingMessage]) -> list[str]:
        """Send `messages` to one chat back to back, nothing of another batch in between."""
        adapter = self.adapter(platform)
        lock = self._chat_locks.setdefault((platform, chat_id), asyncio.Lock())
        async with lock:
            return [await self._send_one(adapter, chat_id, message) for message in messages]

    async def _send_one(self, adapter: Adapter, chat_id: str, message: OutgoingMessage) -> str:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            await self._wait_for_platform(adapter.platform)
            try:
                return await adapter.send(chat_id, message)
            except RetryAfter as exc:
                # The platform is flood-limited as a whole: every chat on it waits.
                log.warning("%s asked to wait %.1f s (chat %s)", adapter.platform,
                            exc.seconds, chat_id)
                self._pause(adapter.platform, exc.seconds)
                if attempt == self.attempts:
                    raise
            except AdapterError as exc:
                if not exc.transient or attempt == self.attempts:
                    raise
                log.warning("send to %s/%s failed (%s), attempt %d of %d", adapter.platform,
                            chat_id, exc, attempt, self.attempts)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, platform: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._resume_at[platform] = max(self._resume_at.get(platform, 0.0),
                                        loop.time() + seconds)

    async def _wait_for_platform(self, platform: str) -> None:
        loop = asyncio.get_running_loop()
        while True:  # a pause may be extended by another 429 while we wait
            wait = self._resume_at.get(platform, 0.0) - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)
