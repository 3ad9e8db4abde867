"""The bot's answers survive the process: kill -9 mid-backlog or a stop, start again, and every
suggestion is answered; none twice but the one QQ had taken when the process died."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from bot.core.db import open_database
from tests.support.answers import answered_numbers, numbers_in
from tests.support.builders import add_group
from tests.support.fakes.onebot import FakeNapCat
from tests.support.loopback import free_port
from tests.support.migrations import database_at
from tests.support.onebot import GROUP, onebot_env, said
from tests.support.polling import eventually
from tests.support.process import serving, start_yehua

SUGGESTIONS = 100


def _seed(data: Path) -> None:
    engine = open_database(f"sqlite:///{data / 'yehua.db'}")
    add_group(engine, "枫树村QQ群", platform="onebot", chat_id=str(GROUP))
    engine.dispose()


async def _raise_all(napcat: FakeNapCat, url: str) -> None:
    """Every member raises one suggestion, all at once; QQ is told each one was taken."""
    events = [napcat.group_message(GROUP, 30_000 + n, said(f"建议 第{n}户门口的沟通一通"))
              for n in range(SUGGESTIONS)]
    answers = await asyncio.gather(*(napcat.post_event(url, e) for e in events))
    assert {status for status, _body in answers} == {204}


def _covered(napcat: FakeNapCat) -> set[int]:
    return answered_numbers(s.text for s in napcat.answered(GROUP))


async def test_kill_9_mid_backlog_then_restart_every_suggestion_is_answered(
        tmp_path: Path, napcat: FakeNapCat) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _seed(data)
    napcat.delay = 0.5  # QQ takes each answer slowly: a backlog builds up
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Before the kill each answer goes on its own, so most are still waiting when it comes.
    bot = await start_yehua(env=onebot_env(data, port, napcat, YEHUA_REPLY_BACKLOG="1000"))
    try:
        await serving(url)
        await _raise_all(napcat, url)
        await eventually(lambda: len(napcat.answered(GROUP)) >= 3, 30)
    finally:
        os.kill(bot.pid, signal.SIGKILL)
        await bot.wait()
    before_kill = list(napcat.answered(GROUP))
    assert _covered(napcat) != set(range(1, SUGGESTIONS + 1)), "killed mid-backlog"

    bot = await start_yehua(env=onebot_env(data, port, napcat))  # shipped settings: gathered
    try:
        await eventually(lambda: _covered(napcat) == set(range(1, SUGGESTIONS + 1)), 90)
    finally:
        bot.terminate()
        await bot.wait()

    receipts = [s for s in napcat.answered(GROUP) if numbers_in(s.text)]
    named = Counter(number for s in receipts for number in numbers_in(s.text))
    twice = {number for number, count in named.items() if count > 1}
    print(f"\n{SUGGESTIONS} suggestions; {len(before_kill)} answers out before the kill, "
          f"{len(receipts)} in all; named twice: {sorted(twice)}")
    # Only the answer QQ had taken in the moment the process died, unconfirmed, goes again.
    assert len(twice) <= 1 and twice <= set(numbers_in(before_kill[-1].text))
    assert len(receipts) <= len(before_kill) + 3, "what waited went out gathered"


async def test_a_stop_mid_backlog_says_how_many_answers_wait_and_the_restart_sends_them(
        tmp_path: Path, napcat: FakeNapCat) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _seed(data)
    napcat.delay = 1.0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Nothing gathered here: each answer goes on its own, so many wait at the stop.
    env = onebot_env(data, port, napcat, YEHUA_REPLY_BACKLOG="1000")
    bot = await start_yehua(env=env)
    try:
        await serving(url)
        await _raise_all(napcat, url)
        await eventually(lambda: len(napcat.answered(GROUP)) >= 2, 30)
    finally:
        bot.terminate()
        _out, err = await bot.communicate()
    left = [line for line in err.decode().splitlines() if "answers left for after the restart"
            in line]
    assert len(left) == 1, err.decode()[-2000:]
    waiting = int(left[0].split(" answers left")[0].split()[-1])
    assert 0 < waiting <= SUGGESTIONS - len(_covered(napcat)) + 1

    napcat.delay = 0.0
    # Started as shipped: what waited goes out gathered, as a backlog does.
    bot = await start_yehua(env=onebot_env(data, port, napcat))
    try:
        await eventually(lambda: _covered(napcat) == set(range(1, SUGGESTIONS + 1)), 90)
    finally:
        bot.terminate()
        await bot.wait()
    named = Counter(n for s in napcat.answered(GROUP) for n in numbers_in(s.text))
    assert sum(1 for count in named.values() if count > 1) <= 1


def _made_at_0020(data: Path) -> None:
    """A database from before the per-chat mark: suggestion 1's receipt went out (its mark
    cleared), suggestion 2's still waits in its row."""
    with database_at(data / "yehua.db", "0020") as connection:
        connection.execute(text(
            "INSERT INTO chat_group (id, platform, chat_id, name, hamlet, timezone, "
            "speech_profile, created_at, ledger_key) VALUES (1, 'onebot', :chat, '枫树村QQ群', "
            "'', 'Asia/Shanghai', 'default', '2026-12-01 00:00:00.000000', 'k')"),
            {"chat": str(GROUP)})
        for number, waiting in ((1, None), (2, True)):
            connection.execute(text(
                "INSERT INTO suggestion (id, group_id, hamlet, platform, chat_id, message_id, "
                "author_id, author_name, text, machine_text, category, status, created_at, "
                "updated_at, receipt_waiting) VALUES (:id, 1, '', 'onebot', :chat, :message, "
                "'20001', '张大爷', '村口路灯坏了', 0, 'other', 'NEW', "
                "'2026-12-06 12:00:00.000000', '2026-12-06 12:00:00.000000', :waiting)"),
                {"id": number, "chat": str(GROUP), "message": f"m{number}", "waiting": waiting})


async def test_after_the_upgrade_a_receipt_that_waited_goes_out_and_one_sent_does_not(
        tmp_path: Path, napcat: FakeNapCat) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _made_at_0020(data)
    port = free_port()
    bot = await start_yehua(env=onebot_env(data, port, napcat))
    try:
        await eventually(lambda: answered_numbers(s.text for s in napcat.sent) == {2}, 30)
        await serving(f"http://127.0.0.1:{port}")
        await asyncio.sleep(1.0)  # a second sweep's worth: nothing goes twice
    finally:
        bot.terminate()
        await bot.wait()
    assert [numbers_in(s.text) for s in napcat.sent if numbers_in(s.text)] == [[2]]
