"""The outbox: the only path that sends; keeps each chat in order, paces each platform inside its
published limits, and retries what may pass."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.core.adapter import Adapter, AdapterError, PreparesSends, RetryAfter
from bot.core.messages import OutgoingMessage, OutgoingText, in_chat_question
from bot.outbox.pacing import Budget, Pacer

log = logging.getLogger(__name__)

# Called after each message of a batch is sent, with its index and the platform's message id,
# so a caller can record progress (a crash then resends only what had not gone out).
SentHook = Callable[[int, str], Awaitable[None]]


class Outbox:
    """Sends batches of messages per chat, in order, paced per platform, with retries."""

    def __init__(self, adapters: Mapping[str, Adapter], *, attempts: int = 5,
                 backoff: float = 1.0, max_backoff: float = 60.0,
                 budget: Budget | None = None) -> None:
        self.adapters = dict(adapters)
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._chat_locks: dict[tuple[str, str], asyncio.Lock] = {}
        # `budget`: shared with other instances sending with the same accounts (PostgreSQL).
        self._pacers = {name: Pacer(adapter.limits, budget=budget)
                        for name, adapter in self.adapters.items()}

    def adapter(self, platform: str) -> Adapter:
        try:
            return self.adapters[platform]
        except KeyError:
            raise AdapterError(f"platform {platform!r} is not switched on") from None

    async def send(self, platform: str, chat_id: str, messages: Sequence[OutgoingMessage],
                   on_sent: SentHook | None = None) -> list[str]:
        """Send `messages` to one chat back to back, nothing of another batch in between."""
        adapter = self.adapter(platform)
        pacer = self._pacers[platform]
        lock = self._chat_locks.setdefault((platform, chat_id), asyncio.Lock())
        ids: list[str] = []
        recorded: asyncio.Future[None] | None = None
        async with lock:
            try:
                for index, message in enumerate(messages):
                    # A batch's later messages (a lesson's voice after its text) go before
                    # other chats' first messages, so each group gets its post close together.
                    sent = await self._send_one(adapter, pacer, chat_id, message,
                                                priority=0 if index else 1, after=recorded)
                    ids.append(sent)
                    if on_sent is not None:
                        # Recorded while the next message waits for its turn, before it goes.
                        recorded = asyncio.ensure_future(on_sent(index, sent))
                if recorded is not None:
                    await recorded
            finally:
                if recorded is not None and not recorded.done():
                    await asyncio.wait([recorded])  # what went out is recorded either way
        return ids

    async def _send_one(self, adapter: Adapter, pacer: Pacer, chat_id: str,
                        message: OutgoingMessage, priority: int,
                        after: asyncio.Future[None] | None = None) -> str:
        delay = self.backoff
        if (isinstance(message, OutgoingText) and message.answered_here and message.private_to
                and not adapter.private_in_chat):
            message = in_chat_question(message)
        paced = _pace_key(adapter, chat_id, message)
        # Waited for before the send takes a slot, so the slot goes out on time.
        if after is not None:
            await asyncio.shield(after)  # the previous message's progress is stored
        if isinstance(adapter, PreparesSends):
            await adapter.ready(message)
        for attempt in range(1, self.attempts + 1):
            await pacer.acquire(paced, priority)
            wait = 0.0
            try:
                return await adapter.send(chat_id, message)
            except RetryAfter as exc:
                if exc.chat_only:  # a group robot's own budget: only this group waits
                    pacer.pause_chat(paced, exc.seconds)
                else:  # the platform is flood-limited as a whole: every chat on it waits
                    pacer.pause(exc.seconds)
                failure: AdapterError = exc
            except AdapterError as exc:
                if not exc.transient:
                    raise
                failure, wait = exc, delay * (0.5 + random.random())
                delay = min(delay * 2, self.max_backoff)
            finally:
                pacer.release(paced)
            if attempt == self.attempts:
                raise failure
            log.warning("send to %s/%s failed (%s), attempt %d of %d", adapter.platform,
                        chat_id, failure, attempt, self.attempts)
            await asyncio.sleep(wait)
            priority = 0  # a retry goes before new work
        raise AssertionError("unreachable")  # pragma: no cover


def _pace_key(adapter: Adapter, chat_id: str, message: OutgoingMessage) -> str:
    """The chat a send counts against: an answer the platform delivers privately goes to the
    member's own chat, so it leaves the group's per-minute budget alone (a few hundred
    thank-yous must not hold the group's next post back a quarter of an hour). The rare one
    that falls back to a line in the group is then paced by the platform's flood answers."""
    if adapter.private_answers and isinstance(message, OutgoingText) and message.private_to:
        return f"{chat_id}>{message.private_to}"
    return chat_id
