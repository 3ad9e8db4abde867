"""What an operator reads in the running bot's log: counts of routine work, not a line apiece."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from bot.core.counting import PerMinute
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.instances import Instance, start
from tests.support.loopback import free_port
from tests.support.onebot import GROUP, prepare_qq_groups, said, stored, with_onebot
from tests.support.polling import eventually
from tests.support.process import bot_env

FIRST_MEMBER = 345679000


async def test_a_burst_of_suggestions_logs_their_count_not_a_line_each(
    settings: Settings, napcat: FakeNapCat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        events = [napcat.group_message(GROUP, FIRST_MEMBER + n, said(f"建议 修第{n}号路灯"))
                  for n in range(12)]
        answers = await asyncio.gather(*(napcat.post_event(bot.url, e) for e in events))
        assert [status for status, _body in answers] == [204] * 12
        assert len(stored(bot.app)) == 12
    # On shutdown the minute's count so far is written, so none goes unreported.
    said_lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
    counted = [line for line in said_lines
               if line.startswith("suggestions stored: 12 in the last minute (in ")]
    assert len(counted) == 1, said_lines
    per_suggestion = [line for line in said_lines if re.search(r"suggestion \d+", line)]
    assert per_suggestion == [], "no line per suggestion at INFO"


async def test_the_count_is_written_by_its_timer_and_starts_afresh(
    caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("bot.chat.ingest")
    caplog.set_level(logging.INFO, logger=log.name)
    count = PerMinute(log, "suggestions stored", interval_s=0.05)
    for _ in range(3):
        count.add()

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == log.name]

    await eventually(lambda: lines() == ["suggestions stored: 3 in the last minute"])
    count.add()
    await eventually(lambda: lines()[1:] == ["suggestions stored: 1 in the last minute"])


async def test_the_running_bot_logs_plain_lines_with_time_and_level(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bot = Instance("A", url, bot_env(tmp_path / "data", YEHUA_PORT=str(port),
                                     YEHUA_LOG_LEVEL="INFO"))
    await start(bot)
    assert bot.process is not None
    bot.process.terminate()
    async with asyncio.timeout(30):
        _out, said = await bot.process.communicate()
    err = said.decode()
    plain = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO bot\.app: Yehua is up on http\S+$"
    assert re.search(plain, err, re.MULTILINE), err[-2000:]
    assert "event loop: asyncio (YEHUA_UVLOOP=false)" in err
