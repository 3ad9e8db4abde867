"""The bot's answers on QQ with the real app: stored before QQ hears the message was taken,
a burst into one chat answered in a few messages that name every number, and an answer the
database cannot store leaves nothing of its message stored: it comes again, answered once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

from bot import texts
from bot.app import SERVICES
from bot.settings import Settings
from tests.support.answers import answered_numbers, answers_refused, numbers_in, span_in
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.faults import FAST_BUSY_MS
from tests.support.onebot import (
    GROUP,
    OTHER_GROUP,
    ZHANG,
    prepare_qq_groups,
    said,
    stored,
    with_onebot,
)
from tests.support.polling import eventually

BURST = 200
# QQ takes 5 sends a second: a burst posted at once is answered in a few messages (the first
# ones while few wait, then one for all that waited meanwhile), never one per suggestion.
FEW_MESSAGES = 25


async def test_a_burst_of_200_suggestions_into_one_group_is_answered_in_a_few_messages(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        events = [napcat.group_message(GROUP, 20_000 + n, said(f"建议 第{n}盏路灯修一修"))
                  for n in range(BURST)]
        answers = await asyncio.gather(*(napcat.post_event(bot.url, e) for e in events))
        assert {status for status, _body in answers} == {204}
        numbers = {row.id for row in stored(bot.app)}
        assert len(numbers) == BURST
        await eventually(lambda: answered_numbers(s.text for s in napcat.answered(GROUP))
                         >= numbers, 60)
        await bot.app[SERVICES].replies.drain()
    receipts = [s for s in napcat.answered(GROUP) if numbers_in(s.text)]
    named = Counter(number for s in receipts for number in numbers_in(s.text))
    print(f"\n{BURST} suggestions answered in {len(receipts)} messages")
    assert len(receipts) <= FEW_MESSAGES
    assert set(named) == numbers and set(named.values()) == {1}, "each number named once"
    gathered = [s for s in receipts if len(numbers_in(s.text)) > 1]
    assert gathered and all(s.user_id is None for s in gathered), "gathered ones in the group"
    assert "收到" in gathered[0].text and "条建议" in gathered[0].text


async def test_two_groups_bursting_together_each_get_a_few_short_lines_covering_their_own(
        settings: Settings, napcat: FakeNapCat) -> None:
    # Numbers are shared by all groups: two groups raising at once get interleaved ones.
    groups = (GROUP, OTHER_GROUP)
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        events = [napcat.group_message(group, 20_000 + n, said(f"建议 第{n}条水渠清一清"))
                  for n in range(BURST // 2) for group in groups]
        answers = await asyncio.gather(*(napcat.post_event(bot.url, e) for e in events))
        assert {status for status, _body in answers} == {204}
        own = {group: {row.id for row in stored(bot.app) if row.chat_id == str(group)}
               for group in groups}
        assert all(len(numbers) == BURST // 2 for numbers in own.values())

        def covered(group: int) -> set[int]:
            found: set[int] = set()
            for sent in napcat.answered(group):
                span = span_in(sent.text)
                found |= ({n for n in own[group] if n in span} if span is not None
                          else set(numbers_in(sent.text)))
            return found

        await eventually(lambda: all(covered(g) >= own[g] for g in groups), 60)
        await bot.app[SERVICES].replies.drain()
    for group in groups:
        lines = [s.text for s in napcat.answered(group)
                 if numbers_in(s.text) or span_in(s.text)]
        assert len(lines) <= FEW_MESSAGES
        spans = [line for line in lines if span_in(line)]
        assert spans, "scattered numbers are named by their span, not listed"
        assert all(len(line) < 80 and "我的建议" in line for line in spans)
        assert not any(n in own[other] for other in groups if other != group
                       for n in answered_numbers(lines)), "no other group's numbers listed"


async def test_a_few_suggestions_are_each_answered_on_their_own(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        for n in range(3):
            event = napcat.group_message(GROUP, ZHANG, said(f"建议 第{n}条沟渠清一清"))
            assert (await napcat.post_event(bot.url, event))[0] == 204
            await eventually(lambda n=n: answered_numbers(
                s.text for s in napcat.to_user(ZHANG)) == set(range(1, n + 2)))
        await bot.app[SERVICES].replies.drain()
    assert [numbers_in(s.text) for s in napcat.to_user(ZHANG)] == [[1], [2], [3]]
    assert napcat.in_group(GROUP) == [], "one member's receipts stay private"


async def test_an_answer_the_database_cannot_store_makes_the_message_come_again_answered_once(
        settings: Settings, napcat: FakeNapCat) -> None:
    window = "30"  # the bot writes a QQ event again itself for this long
    faulty = replace(with_onebot(settings, napcat, YEHUA_STORAGE_RETRY_SECONDS=window),
                     db_busy_timeout_ms=FAST_BUSY_MS, storage_retry_seconds=float(window))
    async with running(faulty, prepare_qq_groups) as bot:
        event = napcat.group_message(GROUP, ZHANG, said("建议 村口装个路灯"))
        with answers_refused(settings.data_dir / "yehua.db"):
            status, _body = await napcat.post_event(bot.url, event)
            assert status == 503, "QQ hears the message was not taken"
            # Nothing half written: the suggestion and its answer are stored together or not.
            assert stored(bot.app) == []
            assert not any(numbers_in(s.text) for s in napcat.answered(GROUP))
        # QQ's HTTP client does not resend: the bot writes the event again itself, and now its
        # answer is stored and sent.
        await eventually(lambda: answered_numbers(s.text for s in napcat.answered(GROUP)) == {1})
        assert (await napcat.post_event(bot.url, event))[0] == 204  # QQ sent it twice after all
        await bot.app[SERVICES].replies.drain()
    assert len(stored(bot.app)) == 1
    assert sum(1 for s in napcat.answered(GROUP) if numbers_in(s.text) == [1]) == 1
    assert not any(texts.STORAGE_NOT_SAVED in s.text for s in napcat.answered(GROUP))
