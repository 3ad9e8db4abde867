"""Two instances on one PostgreSQL store answers into the same QQ group: one of them sends
each answer, never both; every suggestion is answered once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from bot.core.db import open_database
from tests.support.answers import answered_numbers, numbers_in
from tests.support.builders import add_group
from tests.support.fakes.onebot import SECRET, TOKEN, FakeNapCat
from tests.support.instances import instances
from tests.support.onebot import GROUP, said
from tests.support.polling import eventually

SUGGESTIONS = 60


async def test_two_instances_never_both_send_one_answer(
        pg_url: str, tmp_path: Path, napcat: FakeNapCat) -> None:
    engine = open_database(pg_url)
    add_group(engine, "枫树村QQ群", platform="onebot", chat_id=str(GROUP))
    engine.dispose()
    napcat.delay = 0.05
    async with instances(2, pg_url, tmp_path, YEHUA_ONEBOT_API_ROOT=napcat.url,
                         YEHUA_ONEBOT_ACCESS_TOKEN=TOKEN, YEHUA_ONEBOT_SECRET=SECRET,
                         # each answer on its own: every one of them is contested
                         YEHUA_REPLY_BACKLOG="1000") as (a, b):
        events = [napcat.group_message(GROUP, 40_000 + n, said(f"建议 第{n}棵树该修枝了"))
                  for n in range(SUGGESTIONS)]
        answers = await asyncio.gather(*(napcat.post_event((a, b)[n % 2].url, event)
                                         for n, event in enumerate(events)))
        assert {status for status, _body in answers} == {204}
        everything = set(range(1, SUGGESTIONS + 1))
        await eventually(lambda: answered_numbers(s.text for s in napcat.answered(GROUP))
                         == everything, 90)
    named = Counter(n for s in napcat.answered(GROUP) for n in numbers_in(s.text))
    assert set(named.values()) == {1}, [n for n, count in named.items() if count > 1]
