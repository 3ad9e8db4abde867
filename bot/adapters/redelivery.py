"""Events handed to the bot again while its storage fails, where no platform will resend them.

Telegram, Feishu and WeCom deliver an event again when the bot answers that it was not taken.
A OneBot implementation and DingTalk's HTTP robot may never send it twice, and the web chat has
already stored the member's message when the bot's own write fails: there the adapter keeps the
event and hands it on again with growing pauses for a bounded time. Suggestions are unique per
platform, chat and message id, so an event that gets through twice is stored once. If the
storage is still failing at the end, the member is told in the chat to send it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import texts
from bot.core.adapter import AdapterError, StorageError
from bot.core.messages import IncomingMessage, OutgoingMessage, OutgoingText

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 30.0

Attempt = Callable[[], Awaitable[None]]
Send = Callable[[str, OutgoingMessage], Awaitable[str]]


class Redelivery:
    """One adapter's kept events: each retried in the background until stored or given up."""

    def __init__(self, window: float, send: Send, *, first_delay: float = FIRST_DELAY_S
                 ) -> None:
        self.window = window  # seconds from the first failure to giving up
        self.send = send  # the adapter's own send, to tell the member at the end
        self.first_delay = first_delay
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """How many events are waiting to be written again."""
        return len(self._tasks)

    def keep(self, attempt: Attempt, message: IncomingMessage) -> None:
        """Run `attempt` again (it hands `message` to the bot) until it stops failing."""
        log.warning("%s message %s in %s not stored: trying again for up to %.0f s",
                    message.platform, message.message_id, message.chat_id, self.window)
        task = asyncio.create_task(self._retry(attempt, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry(self, attempt: Attempt, message: IncomingMessage) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        delay = self.first_delay
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(delay, left))
            try:
                await attempt()
            except StorageError as exc:
                log.info("%s message %s still not stored: %s", message.platform,
                         message.message_id, exc)
                delay = min(delay * 2, MAX_DELAY_S)
                continue
            except Exception:  # this background task is the event's last error boundary
                log.exception("%s message %s failed on its retry", message.platform,
                              message.message_id)
                return
            log.info("%s message %s stored on a retry", message.platform, message.message_id)
            return
        await self._give_up(message)

    async def _give_up(self, message: IncomingMessage) -> None:
        log.error("%s message %s in %s could not be stored within %.0f s: the sender is asked "
                  "to send it again", message.platform, message.message_id, message.chat_id,
                  self.window)
        notice = OutgoingText(texts.STORAGE_NOT_SAVED, reply_to=message.message_id,
                              mention=message.user_id)
        try:
            await self.send(message.chat_id, notice)
        except (AdapterError, StorageError) as exc:
            log.error("%s message %s is lost: its sender could not be told either: %s",
                      message.platform, message.message_id, exc)

    async def shutdown(self, _app: web.Application | None = None) -> None:
        """Stop retrying (the app is going down); what was still failing is logged as lost."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if tasks:
            log.error("%d events were still not stored at shutdown and are lost", len(tasks))
