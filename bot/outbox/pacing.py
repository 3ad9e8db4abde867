"""Pacing sends inside a platform's published limits: evenly, fairly, never in bursts.

Each platform gets one Pacer. A send asks for a slot and gives it back when the platform has
answered. A slot is granted only when
- the whole platform has fewer than `global_per_second` sends in flight or answered in the last
  second, and the previous grant was at least 1/`global_per_second` ago (even spacing: no burst
  at start and none after a flood pause);
- the chat has nothing in flight, its last send was answered at least 1/`chat_per_second` ago,
  and it has fewer than `chat_per_minute` sends in flight or answered in the last minute.
Waiting sends are served by priority, then first come: a lesson's voice (priority 0, following
its text) goes before the next group's text (priority 1), so each group hears its lesson soon
after reading it. At the end of a fan-out (a second's worth of sends or fewer still waiting) the
first messages go first instead, so the last voices fill the final second at the full rate
rather than trickling out as slowly as their texts went; no follow-up is held back past
TAIL_HOLD. After a RetryAfter the whole platform pauses, and resumes at the even pace.

Grants keep to a fixed grid of 1/`global_per_second` steps: a grant a little late (the loop's
timer, other work) does not push every later one back, so the pace holds the rate itself.

With a shared `Budget` (several instances sending with one account), the platform-wide spacing
comes from it instead: the pacer reserves one slot at a time, when a send could use it, and
grants it at that moment; the per-chat rules and priorities stay local. A RetryAfter is written
into the budget, so every instance waits it out.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.adapter import RateLimits

log = logging.getLogger(__name__)

# Counting our own sends is exact, but the platform counts arrivals; leave it a little room.
SAFETY = 0.99
# At the end of a fan-out a follow-up gives way to first messages, but not once it has waited
# this long: a lesson's voice stays within a couple of seconds of its text.
TAIL_HOLD = 1.75


class Budget(Protocol):
    """One send budget per platform account, shared by every instance sending with it."""

    async def take(self, account: str, rate: float) -> float:
        """Reserve the account's next send slot; return the seconds until it is due."""
        ...

    async def pause(self, account: str, rate: float, seconds: float) -> None:
        """The platform asked the account to wait: no slot is due before `seconds` from now."""
        ...


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    chat: str = field(compare=False)
    future: asyncio.Future[None] = field(compare=False)
    since: float = field(compare=False, default=0.0)  # when it began to wait


class Pacer:
    """Grants send slots for one platform; see the module docstring for the rules."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] | None = None,
                 budget: Budget | None = None) -> None:
        self.limits = limits
        self._clock = clock
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._firsts = 0  # waiters with priority 1 or more: a chat's first message, mostly
        self._in_flight = 0
        self._answered: deque[float] = deque()  # answer times within the last second
        self._next_grant = float("-inf")  # the grid's next step
        self._chat_busy: set[str] = set()
        self._chat_last: dict[str, float] = {}
        self._chat_minute: dict[str, deque[float]] = {}
        self._chat_paused: dict[str, float] = {}
        self._paused_until = 0.0
        self._timer: asyncio.TimerHandle | None = None
        rate = limits.global_per_second
        self._rate = rate * SAFETY if rate else 0.0
        self._spacing = 1.0 / self._rate if rate else 0.0
        # Shared only where there is a platform-wide limit and an account to share it by.
        self._budget = budget if rate and limits.account else None
        self._slot: float | None = None  # when the reserved shared slot is due
        self._reserving = False
        self._tasks: set[asyncio.Task[None]] = set()

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def acquire(self, chat: str, priority: int = 1) -> None:
        """Wait for a slot to send to `chat`; pair every acquire with a release."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, _Waiter(priority, next(self._seq), chat, future,
                                              self._now()))
        if priority:
            self._firsts += 1
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(chat)  # granted just as we were cancelled: give it back
            else:
                self._waiters = [w for w in self._waiters if w.future is not future]
                heapq.heapify(self._waiters)
                if priority:
                    self._firsts -= 1
            raise

    def release(self, chat: str) -> None:
        """The platform has answered the send to `chat`."""
        now = self._now()
        self._in_flight -= 1
        self._chat_busy.discard(chat)
        self._answered.append(now)
        self._chat_last[chat] = now
        if self.limits.chat_per_minute:
            self._chat_minute.setdefault(chat, deque()).append(now)
        self._dispatch()

    def pause(self, seconds: float) -> None:
        """Flood control: grant nothing on this platform for `seconds`."""
        self._paused_until = max(self._paused_until, self._now() + seconds)
        if self._budget is not None:
            self._slot = None  # reserved before the platform said stop
            self._spawn(self._share_pause(self._budget, seconds))
        self._dispatch()

    def pause_chat(self, chat: str, seconds: float) -> None:
        """Flood control on one chat only (a group robot's own limit)."""
        self._chat_paused[chat] = max(self._chat_paused.get(chat, 0.0), self._now() + seconds)
        self._dispatch()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._now()
        wake = self._grant(now)
        if wake is not None and self._waiters:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(wake - now, 0.001), self._dispatch)

    def _grant(self, now: float) -> float | None:
        """Grant what may go now; return when to look again (None: on the next release)."""
        if now < self._paused_until:
            return self._paused_until
        while self._answered and self._answered[0] <= now - 1.0:
            self._answered.popleft()
        if self._slot is not None and now > self._slot + self._spacing / 2:
            self._slot = None  # nobody could use it in time: a late send would crowd the next
        wake: float | None = None
        blocked: list[_Waiter] = []
        tail = self._in_tail()
        while self._waiters:
            global_at = self._global_free_at(now)
            if global_at is not None and global_at > now:
                wake = global_at
                break
            if global_at is None:  # capacity is all in flight: the next release wakes us
                break
            waiter: _Waiter | None = None
            held: _Waiter | None = None  # in the tail: a follow-up, if no first message can go
            while self._waiters:
                candidate = heapq.heappop(self._waiters)
                if candidate.future.done():
                    continue
                chat_at = self._chat_free_at(candidate.chat, now)
                if chat_at is None or chat_at > now:  # in flight, or its chat's turn is later
                    blocked.append(candidate)
                    if chat_at is not None:
                        wake = chat_at if wake is None else min(wake, chat_at)
                    continue
                if tail and candidate.priority == 0 and now - candidate.since < TAIL_HOLD:
                    if held is None:
                        held = candidate
                    else:
                        blocked.append(candidate)
                    continue
                waiter = candidate
                break
            if waiter is None:
                waiter, held = held, None
            if held is not None:
                blocked.append(held)
            if waiter is None:
                break
            if self._budget is not None and (self._slot is None or self._slot > now):
                blocked.append(waiter)  # it could go: wait for the shared slot
                if self._slot is None:
                    self._reserve()
                else:
                    wake = self._slot if wake is None else min(wake, self._slot)
                break
            self._slot = None
            self._in_flight += 1
            if waiter.priority:
                self._firsts -= 1
            self._chat_busy.add(waiter.chat)
            # On the grid, unless more than half a step late (idle, paused): then from now.
            late = now - self._next_grant > self._spacing / 2
            self._next_grant = (now if late else self._next_grant) + self._spacing
            waiter.future.set_result(None)
        for waiter in blocked:
            heapq.heappush(self._waiters, waiter)
        return wake

    def _in_tail(self) -> bool:
        """Whether the sends still waiting are a second's worth or less at the present pace:
        the end of a fan-out. Then first messages go before follow-ups (a lesson's voices):
        each voice must wait out its chat's second after its text anyway, and only voices are
        left once the last text is out, so the texts go while enough voices still wait to fill
        that last second at the full rate."""
        pace = self._in_flight + len(self._answered)  # sends of the last second, about
        return self._firsts > 0 and len(self._waiters) <= pace

    def _reserve(self) -> None:
        """Ask the shared budget for the next slot, unless already asking."""
        if self._reserving or self._budget is None:
            return
        self._reserving = True
        self._spawn(self._take(self._budget))

    async def _take(self, budget: Budget) -> None:
        try:
            wait = await budget.take(self.limits.account, self._rate)
        except Exception:  # the database is away: pace alone meanwhile
            log.warning("shared send budget unavailable; pacing %s alone",
                        self.limits.account, exc_info=True)
            wait = self._spacing
        finally:
            self._reserving = False
        self._slot = self._now() + wait
        self._dispatch()

    async def _share_pause(self, budget: Budget, seconds: float) -> None:
        try:
            await budget.pause(self.limits.account, self._rate, seconds)
        except Exception:  # this instance still waits; the others may meet the 429 themselves
            log.warning("could not share a flood pause of %s", self.limits.account,
                        exc_info=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _global_free_at(self, now: float) -> float | None:
        """When the platform may take another send (None: only after a release)."""
        rate = self.limits.global_per_second
        if not rate:
            return now
        # The platform counts a send when it takes it in, just before it answers: sends in
        # flight and those answered in the last second are what a new one may meet in its
        # window. Held to the published limit itself, this only bites when the loop or the
        # network bunches sends the grid spaced evenly.
        if self._in_flight >= rate:
            return None
        at = now if self._budget is not None else self._next_grant  # shared: the slot spaces
        if self._in_flight + len(self._answered) >= rate:
            at = max(at, self._answered[0] + 1.0) if self._answered else at
        return max(at, now)

    def _chat_free_at(self, chat: str, now: float) -> float | None:
        """When this chat may take another send (None: only after its release)."""
        if chat in self._chat_busy:
            return None
        at = now
        paused = self._chat_paused.get(chat)
        if paused is not None:
            if paused > now:
                at = paused
            else:
                del self._chat_paused[chat]
        if self.limits.chat_per_second and chat in self._chat_last:
            at = max(at, self._chat_last[chat] + 1.0 / self.limits.chat_per_second)
        per_minute = self.limits.chat_per_minute
        if per_minute:
            window = self._chat_minute.get(chat)
            if window:
                while window and window[0] <= now - 60.0:
                    window.popleft()
                if len(window) >= per_minute:
                    at = max(at, window[0] + 60.0)
                if not window:
                    del self._chat_minute[chat]
        return at
