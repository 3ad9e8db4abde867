"""The pacer keeps every platform inside its limits: evenly, fairly, and quiet while paused."""

from __future__ import annotations

import asyncio
import itertools

from bot.core.adapter import RateLimits
from bot.outbox.pacing import Pacer
from tests.support.windows import most_in_any_window


async def _send(pacer: Pacer, chat: str, log: list[tuple[float, str]], priority: int = 1,
                takes: float = 0.0) -> None:
    await pacer.acquire(chat, priority)
    log.append((asyncio.get_running_loop().time(), chat))
    try:
        await asyncio.sleep(takes)
    finally:
        pacer.release(chat)


async def test_many_chats_at_once_never_exceed_the_global_rate_even_at_the_start() -> None:
    pacer = Pacer(RateLimits(global_per_second=40))
    log: list[tuple[float, str]] = []
    await asyncio.gather(*(_send(pacer, f"chat{i}", log, takes=0.01) for i in range(100)))
    times = [t for t, _ in log]
    assert len(times) == 100
    assert most_in_any_window(times, 1.0) <= 40
    assert most_in_any_window(times, 0.1) <= 8  # even spacing (4 per 0.1 s): no burst of 40


async def test_one_chat_waits_between_its_own_messages() -> None:
    pacer = Pacer(RateLimits(chat_per_second=10))
    log: list[tuple[float, str]] = []
    await asyncio.gather(*(_send(pacer, "village", log) for _ in range(5)))
    times = [t for t, _ in log]
    assert all(b - a >= 0.099 for a, b in itertools.pairwise(times))


async def test_a_lessons_voice_goes_before_other_groups_texts() -> None:
    pacer = Pacer(RateLimits(global_per_second=50, chat_per_second=20))
    log: list[tuple[float, str]] = []

    async def lesson(chat: str) -> None:
        await _send(pacer, chat, log, priority=1)  # the text
        await _send(pacer, chat + ":voice", log, priority=0)

    await asyncio.gather(*(lesson(f"g{i}") for i in range(30)))
    order = [chat for _, chat in log]
    first_voice = order.index("g0:voice")
    assert first_voice < 10, order  # not after all 30 texts
    texts_at = {chat: t for t, chat in log if ":" not in chat}
    voices_at = {chat.split(":")[0]: t for t, chat in log if chat.endswith(":voice")}
    assert max(voices_at[g] - texts_at[g] for g in texts_at) < 0.5


async def test_nothing_is_granted_while_paused_by_flood_control() -> None:
    pacer = Pacer(RateLimits(global_per_second=100))
    log: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()
    paused_at = loop.time()
    pacer.pause(0.3)
    await asyncio.gather(*(_send(pacer, f"c{i}", log) for i in range(10)))
    assert min(t for t, _ in log) >= paused_at + 0.29
    # Resumes at the even pace (5 per 0.05 s), not with all ten at once.
    assert most_in_any_window([t for t, _ in log], 0.05) <= 8


async def test_per_minute_limit_holds_a_chat_back() -> None:
    pacer = Pacer(RateLimits(chat_per_minute=3))
    log: list[tuple[float, str]] = []
    tasks = [asyncio.create_task(_send(pacer, "village", log)) for _ in range(4)]
    done, pending = await asyncio.wait(tasks, timeout=0.5)
    assert len(done) == 3 and len(pending) == 1  # the fourth waits for the minute to turn
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    assert pacer.waiting == 0


async def test_a_pause_on_one_chat_lets_the_others_go_on() -> None:
    pacer = Pacer(RateLimits(chat_per_minute=20))
    log: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    pacer.pause_chat("busy-robot", 0.3)
    await asyncio.gather(_send(pacer, "busy-robot", log), _send(pacer, "other", log))
    at = dict((chat, t) for t, chat in log)
    assert at["other"] < started + 0.1
    assert at["busy-robot"] >= started + 0.29


async def test_at_the_end_of_a_fan_out_the_last_texts_go_while_voices_still_wait() -> None:
    # Scaled down: 50 sends a second, and a chat's voice at least 0.5 s after its text.
    pacer = Pacer(RateLimits(global_per_second=50, chat_per_second=2))
    log: list[tuple[float, str]] = []

    async def lesson(chat: str) -> None:
        await _send(pacer, chat, log, priority=1)
        await _send(pacer, chat, log, priority=0)

    await asyncio.gather(*(lesson(f"g{i}") for i in range(60)))
    sent = [chat for _, chat in log]
    assert sorted(sent) == sorted([f"g{i}" for i in range(60)] * 2)
    last_text = max(sent.index(f"g{i}") for i in range(60))
    # The last texts left enough voices waiting to fill their chats' half second at the full
    # pace (25 sends), instead of the voices trickling out one per text at the end.
    assert len(sent) - 1 - last_text >= 22, len(sent) - 1 - last_text
