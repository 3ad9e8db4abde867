"""After the night talk, as the seeds' villages run it: who came, who handles each suggestion by
when, a photo of the finished work, the overdue one in the morning digest, and the report and the
public ledger saying exactly that — on the web chat and on Telegram."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from docx import Document
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import (
    Attendance,
    ChatMessage,
    Group,
    NightTalk,
    NightTalkStatus,
    Photo,
    PhotoKind,
    Suggestion,
    SuggestionStatus,
)
from bot.domain.figures import ReportFilter
from bot.domain.handling import DIGEST_KIND
from bot.reports import write_docx, write_xlsx
from bot.settings import Settings
from scheduler.models import Timer
from tests.app.test_photos_webchat import post_photo
from tests.support.app import RunningApp, running
from tests.support.fakes.telegram import FakeTelegram
from tests.support.photos import picture
from tests.support.polling import eventually
from tests.support.telegram import LI as TG_LI
from tests.support.telegram import VILLAGE, answer_to, groups, on_telegram
from tests.support.telegram import ZHANG as TG_ZHANG
from tests.support.village import FACILITATOR, LI, SECRETARY, ZHANG, joined, prepare_village

WANG = ("user-wang-0000003", "王叔")
ZHAO = ("user-zhao-0000004", "赵婶")
QIAN = ("user-qian-0000005", "钱奶奶")
CREW_PHONE = "13800001111"


def talk_row(bot: RunningApp) -> NightTalk:
    with session(bot.app[ENGINE]) as db:
        return db.exec(select(NightTalk)).one()


def rows(bot: RunningApp) -> list[Suggestion]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


def kept_photos(bot: RunningApp) -> list[tuple[int | None, PhotoKind, str]]:
    with session(bot.app[ENGINE]) as db:
        return [(p.suggestion_id, p.kind, p.uploader_name)
                for p in db.exec(select(Photo).order_by(col(Photo.id)))]


def said_privately(bot: RunningApp, fragment: str) -> list[str | None]:
    """Whom each bot message containing `fragment` was shown to (None: the whole room)."""
    with session(bot.app[ENGINE]) as db:
        found = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))
                        .order_by(col(ChatMessage.id)))
        return [m.recipient_id for m in found if fragment in m.text]


async def next_mornings_digest(bot: RunningApp) -> None:
    """Move the bot's clock past the next 08:30 digest and let its timer fire."""
    with session(bot.app[ENGINE]) as db:
        due = db.exec(select(Timer).where(Timer.kind == DIGEST_KIND,
                                          Timer.status == "pending")).one().due_at
    at = due + timedelta(minutes=1)
    bot.app[SERVICES].clock = lambda: at
    await bot.app[SCHEDULER].fire_timers(at)
    await bot.app[SERVICES].replies.drain()


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def this_year(bot: RunningApp, group_id: int | None = None) -> ReportFilter:
    now = bot.app[SERVICES].clock()  # the mornings the test moved on
    # The year the suggestions were raised in: the mornings moved on may be in the next one.
    raised = rows(bot)[0].created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    return ReportFilter(start=date(raised.year, 1, 1), end=now.date() + timedelta(days=30),
                        group_id=group_id, as_of=now)


async def test_a_night_talk_followed_through_to_done_overdue_report_and_ledger(
        settings: Settings) -> None:
    async with running(replace(settings, grace_minutes=60), prepare_village) as bot:
        async with joined(bot.url, FACILITATOR) as host, joined(bot.url, SECRETARY) as secretary, \
                joined(bot.url, ZHANG) as zhang, joined(bot.url, LI) as li, \
                joined(bot.url, WANG) as wang, joined(bot.url, ZHAO) as zhao, \
                joined(bot.url, QIAN) as qian:
            assert "「确认」" in await host.ask("/安排夜话 明晚7点半 村里修路 地点：枫树屋场")
            await host.say("确认")
            await zhang.sees("【夜话预告】")
            await host.say("/开始夜话")
            await zhang.sees("【夜话开始】")

            # Five members check in; the group hears nothing per person.
            for person in (zhang, li, wang, zhao, qian):
                await person.say("签到")
            await eventually(lambda: len(said_privately(bot, "签到")) >= 5 or None)
            assert set(said_privately(bot, "签到")) == {p[0] for p in (ZHANG, LI, WANG, ZHAO,
                                                                      QIAN)}

            # Three suggestions, the first with a photo of the broken lamp.
            status, _ = await post_photo(bot.url, ZHANG, picture(1200, 900),
                                         "建议 村口路灯坏了，晚上看不见路")
            assert status == 201
            await zhang.sees("第 1 号")
            assert "第 2 号" in await li.ask("建议 东头的水渠该清一清了")
            assert "第 3 号" in await wang.ask("建议 垃圾车一个礼拜才来一次")

            # The secretary adopts two: one to 李伯 in three days, one to the road crew by
            # tomorrow. The third waits.
            await secretary.say("/采纳 1 交给 李伯 3天内 马上安排电工")
            await secretary.sees("已交给 李伯 办")
            await secretary.say(f"/采纳 2 交给 王师傅（修路队） {CREW_PHONE} 明天 先派人看看")
            await secretary.sees("王师傅")
            assert said_privately(bot, "交给您一件事") == [FACILITATOR[0]]

            # 李伯 closes his with a reply and a photo of the new lamp.
            status, _ = await post_photo(bot.url, FACILITATOR, picture(900, 600, "png"),
                                         "/办结 1 路灯换好了，今晚就亮")
            assert status == 201
            await host.sees("办结照片")

            await host.say("/结束夜话")
            summary = await li.sees("【夜话结束】")
            assert "到场 5 人（群里签到 5 人，现场 0 人）" in summary
            assert "/ledger/" in summary

        talk = talk_row(bot)
        assert talk.status is NightTalkStatus.CLOSED
        with session(bot.app[ENGINE]) as db:
            came = db.exec(select(Attendance).where(Attendance.night_talk_id == talk.id)).all()
            assert len(came) == 5
        first, second, third = rows(bot)
        assert (first.status, first.handler_name, first.reply) == (
            SuggestionStatus.DONE, "李伯", "路灯换好了，今晚就亮")
        assert first.done_at is not None and first.due_at is not None
        assert (second.status, second.handler_phone) == (SuggestionStatus.ADOPTED, CREW_PHONE)
        assert third.status is SuggestionStatus.NEW
        assert kept_photos(bot) == [(1, PhotoKind.RAISED, "张大爷"), (1, PhotoKind.DONE, "李伯")]

        # Mornings pass until the crew's deadline has gone: the secretary's digest names it;
        # the group hears nothing of it.
        for _ in range(4):
            if said_privately(bot, "过了期限"):
                break
            await next_mornings_digest(bot)
        assert said_privately(bot, "过了期限") == [SECRETARY[0]]
        with session(bot.app[ENGINE]) as db:
            digest = db.exec(select(ChatMessage).where(
                col(ChatMessage.text).contains("过了期限"))).one().text
        assert "第 2 号" in digest and "第 1 号" not in digest

        # The report says exactly that.
        folder = Path(tempfile.mkdtemp())
        write_xlsx(bot.app[ENGINE], this_year(bot), folder / "report.xlsx")
        write_docx(bot.app[ENGINE], this_year(bot), folder / "report.docx")
        book = load_workbook(folder / "report.xlsx", read_only=True)
        detail = list(book["明细"].iter_rows(values_only=True))
        at = next(n for n, row in enumerate(detail) if row and row[0] == "编号")
        header = list(detail[at])
        by_number = {row[0]: dict(zip(header, row, strict=False)) for row in detail[at + 1:]
                     if isinstance(row[0], int)}
        assert sorted(by_number) == [1, 2, 3]
        assert by_number[2].get("逾期") and not by_number[1].get("逾期")
        assert by_number[1]["照片"]
        document = Document(str(folder / "report.docx"))
        table = next(t for t in document.tables if t.rows[0].cells[0].text == "编号")
        columns = [cell.text for cell in table.rows[0].cells]
        for wanted in ("提出日期", "承办人", "期限", "办结日期", "用时（天）"):
            assert wanted in columns
        lines = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
        assert lines["1"][columns.index("承办人")].startswith("李伯")
        assert lines["1"][columns.index("办结日期")] != ""
        assert "逾期" in lines["2"][columns.index("期限")]
        assert CREW_PHONE not in " ".join(lines["2"])
        figures = "\n".join(p.text for p in document.paragraphs)
        assert "本期召开夜话1场，参与群众5人、5人次；提出建议3条，采纳2条" in figures
        assert "办结1条" in figures and "目前逾期未办结1条" in figures

        # And so does the public ledger, without the crew's phone number.
        with session(bot.app[ENGINE]) as db:
            key = db.exec(select(Group)).one().ledger_key
        assert key
        status, page = await fetch(f"{bot.url}/ledger/{key}")
        assert status == 200
        for text in ("村口路灯坏了", "东头的水渠该清一清了", "垃圾车一个礼拜才来一次",
                     "路灯换好了，今晚就亮"):
            assert text in page
        assert CREW_PHONE not in page and "王师傅" not in page
        assert (await fetch(f"{bot.url}/ledger/not-the-key"))[0] == 404


async def test_on_telegram_a_photo_suggestion_is_handed_out_and_closed_with_a_photo(
        settings: Settings, telegram: FakeTelegram) -> None:
    telegram.statuses[(VILLAGE, TG_LI["id"])] = "creator"  # hosts, adopts and handles
    async with running(on_telegram(settings, telegram), groups()) as bot:
        telegram.start_bot(TG_LI)  # so the bot can write to her privately
        telegram.say(VILLAGE, TG_LI, "/安排夜话 明晚7点半 村里修路")
        await eventually(lambda: next((s for s in telegram.sent if "「确认」" in s.text), None))
        telegram.say(VILLAGE, TG_LI, "确认")
        telegram.say(VILLAGE, TG_LI, "/开始夜话")
        await eventually(lambda: next((s for s in telegram.sent if "【夜话开始】" in s.text),
                                      None))
        telegram.say(VILLAGE, TG_ZHANG, "签到")
        sizes = [(320, 240, picture(320, 240)), (1280, 960, picture(1280, 960))]
        raised = telegram.say_photo(VILLAGE, TG_ZHANG, sizes, "建议 村口路灯坏了")
        assert "第 1 号" in (await answer_to(telegram, raised, "第 1 号")).text

        telegram.say(VILLAGE, TG_LI, f"/采纳 1 交给 {TG_LI['first_name']} 3天内 马上安排")
        told = await eventually(lambda: next(
            (s for s in telegram.sent if s.chat_id == TG_LI["id"] and "交给您一件事" in s.text),
            None))
        assert "第 1 号" in told.text  # privately, in her own chat with the bot
        done = telegram.say_photo(VILLAGE, TG_LI, [(900, 600, picture(900, 600, "png"))],
                                  "/办结 1 路灯换好了")
        assert done["message"]["photo"]
        await eventually(lambda: next(  # her answer comes to her own chat with the bot
            (s for s in telegram.sent if s.chat_id == TG_LI["id"] and "办结照片" in s.text), None))
        closed = await eventually(lambda: next(
            (s for s in telegram.sent if s.chat_id == VILLAGE and "已办结" in s.text), None))
        assert "路灯换好了" in closed.text  # the group and the author hear it
        telegram.say(VILLAGE, TG_LI, "/结束夜话")
        summary = await eventually(lambda: next(
            (s for s in telegram.sent if "【夜话结束】" in s.text), None))
        assert "到场 1 人" in summary.text  # 张大爷 checked in and raised: counted once

        [row] = rows(bot)
        assert row.status is SuggestionStatus.DONE and row.reply == "路灯换好了"
        assert row.handler_user_id == str(TG_LI["id"])
        assert [kind for _n, kind, _who in kept_photos(bot)] == [PhotoKind.RAISED, PhotoKind.DONE]
        with session(bot.app[ENGINE]) as db:
            key = db.exec(select(Group)).one().ledger_key
        status, page = await fetch(f"{bot.url}/ledger/{key}")
        assert status == 200 and "村口路灯坏了" in page and "路灯换好了" in page
