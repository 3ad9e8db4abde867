"""The public ledger (公开台账) in the real app: the page over HTTP, the link in the chat and
in the closing summary, and the monthly summary sent once."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import Group, Member, NightTalk, NightTalkStatus, Suggestion
from bot.core.models import SuggestionStatus as S
from bot.domain.ledger import (
    MONTHLY_KIND,
    ensure_monthly_timer,
    ledger_key,
    monthly_ref,
    rotate_ledger_key,
)
from bot.domain.talk_texts import summary_text
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import TimerStatus
from tests.support.app import RunningApp, running
from tests.support.builders import add_group
from tests.support.fakes.telegram import FakeTelegram
from tests.support.outcomes import PHONE, Village, seed_village
from tests.support.polling import eventually
from tests.support.telegram import VILLAGE, ZHANG, answer_to, groups, on_telegram
from tests.support.village import ZHANG as WEB_ZHANG
from tests.support.village import bot_texts, joined, prepare_village, village_id

LINK = re.compile(r"(http://\S+/ledger/([\w-]+))")


def seeded(bot: RunningApp) -> Village:
    village = seed_village(bot.app[ENGINE])
    with session(bot.app[ENGINE]) as db:  # the name member no. 1 chose in the chat
        db.add(Member(group_id=village.fengshu, user_id="u1", display_name="老李头"))
    return village


def key_of(bot: RunningApp, group_id: int, *, rotate: bool = False) -> str:
    with session(bot.app[ENGINE]) as db:
        group = db.get(Group, group_id)
        assert group is not None
        return rotate_ledger_key(db, group) if rotate else ledger_key(db, group)


async def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text(), dict(response.headers)


def numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-testid="ledger-entry" data-number="(\d+)"', html)]


async def test_the_ledger_shows_status_roles_dates_and_replies_but_no_personal_data(
        settings: Settings) -> None:
    async with running(settings) as bot:
        village = seeded(bot)
        key = key_of(bot, village.fengshu)
        status, html, headers = await fetch(f"{bot.url}/ledger/{key}")
        assert status == 200
        assert "枫树村群 · 建议公开台账" in html
        assert numbers(html) == [8, 7, 6, 5, 4, 3, 2, 1]  # newest first; no. 12 was merged
        assert "提出人：老李头" in html and "提出人：村民2" in html
        assert "承办：网格员" in html and "承办：村委会" in html
        assert "承办：村里安排专人办理" in html  # a handler with no role: not their name
        for private in (PHONE, "王网格", "李书记", "修路队老张"):
            assert private not in html
        four = html.split('data-number="4"')[1].split("</article>")[0]
        assert "2026年3月8日 提出" in four and "期限：2026年3月30日" in four
        assert "已超过期限" in four and "办理中" in four
        one = html.split('data-number="1"')[1].split("</article>")[0]
        assert "2026年3月6日 办结" in one and "答复：路灯换好了" in one
        assert headers["Referrer-Policy"] == "no-referrer"  # the key never leaves in a Referer
        assert "shimen" not in html and "第9条建议" not in html  # another group's

        assert (await fetch(f"{bot.url}/ledger/{key}x"))[0] == 404
        status, html, _ = await fetch(f"{bot.url}/ledger/not-a-key")
        assert status == 404 and "台账链接已经失效" in html
        new_key = key_of(bot, village.fengshu, rotate=True)
        assert (await fetch(f"{bot.url}/ledger/{key}"))[0] == 404
        assert (await fetch(f"{bot.url}/ledger/{new_key}"))[0] == 200


async def test_the_ledger_pages_twenty_at_a_time(settings: Settings) -> None:
    async with running(settings) as bot:
        village = seeded(bot)
        with session(bot.app[ENGINE]) as db:
            for n in range(30):
                db.add(Suggestion(group_id=village.shimen, platform="web", chat_id="shimen",
                                  message_id=f"more{n}", author_id=f"p{n}", author_name="村民",
                                  text=f"又一条{n}", created_at=utcnow() - timedelta(hours=n)))
        base = f"{bot.url}/ledger/{key_of(bot, village.shimen)}"
        _, first, _ = await fetch(base)
        _, second, _ = await fetch(base + "?page=2")
        _, beyond, _ = await fetch(base + "?page=99")
        _, odd, _ = await fetch(base + "?page=abc")
    assert len(numbers(first)) == 20 and "第 1 / 2 页" in first and "又一条0" in first
    assert len(numbers(second)) == 13 and "第 2 / 2 页" in second  # 30 new, 3 from March
    assert numbers(second)[-3:] == [11, 10, 9] and "page=1" in second
    assert numbers(beyond) == numbers(second) and numbers(odd) == numbers(first)


async def test_the_ledger_command_on_the_web_chat_links_a_page_that_opens(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, WEB_ZHANG) as zhang:
        answer = await zhang.ask("/台账")
        again = await zhang.ask("台账")
        url, key = LINK.findall(answer)[0]
        assert "公开台账" in answer and url.startswith(settings.base_url)
        assert LINK.findall(again)[0][1] == key  # the same link each time
        status, html, _ = await fetch(f"{bot.url}/ledger/{key}")
    assert status == 200 and "枫树村大群 · 建议公开台账" in html and "还没有人提建议" in html


async def test_the_ledger_command_on_telegram(settings: Settings,
                                              telegram: FakeTelegram) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        answer = await answer_to(telegram, telegram.say(VILLAGE, ZHANG, "/台账"))
        url, key = LINK.findall(answer.text)[0]
        with session(bot.app[ENGINE]) as db:
            group = db.exec(select(Group).where(Group.platform == "telegram")).one()
        assert group.ledger_key == key and url.startswith(settings.base_url)
        status, _, _ = await fetch(f"{bot.url}/ledger/{key}")
    assert status == 200


async def test_the_closing_summary_links_the_ledger(settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, joined(bot.url, WEB_ZHANG) as zhang:
        group_id = village_id(bot.app)
        now = utcnow()
        with session(bot.app[ENGINE]) as db:
            talk = NightTalk(group_id=group_id, topic="修路", starts_at=now - timedelta(hours=1),
                             ends_at=now + timedelta(hours=1), status=NightTalkStatus.OPEN,
                             opened_at=now - timedelta(hours=1))
            db.add(talk)
            db.flush()
            db.add(Suggestion(group_id=group_id, night_talk_id=talk.id, platform="web",
                              chat_id="village", message_id="s1", author_id=WEB_ZHANG[0],
                              author_name=WEB_ZHANG[1], text="村口路灯坏了"))
            talk_id = talk.id
        assert talk_id is not None
        await bot.app[SERVICES].talks.close(talk_id)
        summary = await zhang.sees("【夜话结束】")
        stored_key = _key(bot, group_id)
    _, key = LINK.findall(summary)[0]
    assert "村口路灯坏了" in summary and "公开台账" in summary.splitlines()[-1]
    assert key == stored_key


def summaries(bot: RunningApp) -> list[str]:
    return [text for text in bot_texts(bot.app) if "建议小结" in text]


async def test_the_monthly_summary_is_sent_once_even_after_a_restart(settings: Settings) -> None:
    async with running(settings, prepare_village) as bot:
        group_id = village_id(bot.app)
        now = utcnow()
        with session(bot.app[ENGINE]) as db:
            for n, status in enumerate((S.DONE, S.IN_PROGRESS, S.ADOPTED, S.NEW)):
                db.add(Suggestion(group_id=group_id, platform="web", chat_id="village",
                                  message_id=f"m{n}", author_id="u", author_name="张大爷",
                                  text="修路", status=status, created_at=now))
            group = db.get(Group, group_id)
            assert group is not None
            month = now.astimezone(ZoneInfo(group.timezone)).date()
            # The summary of the month the suggestions were stored in: from the evening the
            # summary is due, the timer armed at start is already the next month's.
            ensure_monthly_timer(db, group, month.replace(day=1))
            timer = db.exec(select(Timer).where(
                Timer.kind == MONTHLY_KIND,
                Timer.ref == monthly_ref(group_id, month.replace(day=1)))).one()
            due = timer.due_at
        await bot.app[SCHEDULER].fire_timers(due)
        said = await eventually(lambda: summaries(bot))
        link = f"{settings.base_url}/ledger/{_key(bot, group_id)}"
    assert said == [f"【{month.month}月建议小结】本月收到建议 4 条，已采纳 3 条，已办结 1 条，"
                    "还在办的有 2 条。谢谢大家出主意！\n每一条的进度都在公开台账里：" + link]
    async with running(settings) as again:
        await again.app[SCHEDULER].fire_timers(due + timedelta(minutes=5))
        with session(again.app[ENGINE]) as db:
            armed = db.exec(select(Timer).where(Timer.kind == MONTHLY_KIND)).all()
        assert len(summaries(again)) == 1
    assert [t.status for t in armed].count(TimerStatus.FIRED) == 1
    assert len(armed) == 2  # next month's is armed


def _key(bot: RunningApp, group_id: int) -> str:
    with session(bot.app[ENGINE]) as db:
        group = db.get(Group, group_id)
        assert group is not None and group.ledger_key
        return group.ledger_key


def test_a_closing_summary_without_suggestions_still_links_the_ledger(engine: Engine) -> None:
    group = add_group(engine, "枫树村大群")
    now = utcnow()
    with session(engine) as db:
        talk = NightTalk(group_id=group.id or 0, topic="村里修路", starts_at=now,
                         ends_at=now + timedelta(hours=2))
        db.add(talk)
        db.flush()
        text = summary_text(db, talk, "http://村里.example/ledger/abc")
    first, last = text.splitlines()
    assert first.startswith("【夜话结束】“村里修路”夜话结束了，谢谢大家来坐坐！这次没有收到建议。")
    assert last == "所有建议的办理进度，随时可以在公开台账查看：http://村里.example/ledger/abc"
