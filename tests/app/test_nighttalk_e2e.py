"""A whole night talk in the real app, from scheduling in the chat to decisions people are told."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import select

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import NightTalk, NightTalkStatus, SuggestionStatus
from bot.settings import Settings
from tests.support.app import running
from tests.support.village import (
    FACILITATOR,
    LI,
    SECRETARY,
    ZHANG,
    bot_texts,
    deliver_event,
    event,
    joined,
    prepare_village,
    say_by_voice,
    suggestions,
)

WANG = ("user-wang-0000003", "王叔")
ZHAO = ("user-zhao-0000004", "赵婶")


def talk_row(app: object) -> NightTalk:
    with session(app[ENGINE]) as db:  # type: ignore[index]
        return db.exec(select(NightTalk)).one()


async def test_a_whole_night_talk_from_the_chat_to_adopted_and_told(settings: Settings) -> None:
    async with running(replace(settings, grace_minutes=60), prepare_village) as bot:
        scheduler = bot.app[SCHEDULER]
        async with joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang, \
                joined(bot.url, LI) as li, joined(bot.url, WANG) as wang, \
                joined(bot.url, SECRETARY) as secretary:
            # The day after tomorrow: "tomorrow evening" asked after 7:30 pm leaves no evening
            # before to remind on, and this test walks through every step.
            understood = await host.ask("/安排夜话 后天晚上7点半 村里修路 地点：枫树屋场")
            assert "晚上7点半" in understood and "「确认」" in understood
            await host.say("确认")
            announced = await li.sees("【夜话预告】")
            assert "村里修路" in announced
            assert "晚上7点半" in announced and "枫树屋场" in announced
            talk = talk_row(bot.app)

            await scheduler.run_due(talk.starts_at - timedelta(hours=23, minutes=30))
            assert (await li.sees("【夜话提醒】明天")).count("村里修路") == 1
            await scheduler.run_due(talk.starts_at - timedelta(minutes=30))
            await li.sees("还有半小时")
            await scheduler.run_due(talk.starts_at)
            opening = await zhang.sees("【夜话开始】")
            assert "建议" in opening
            talk = talk_row(bot.app)
            assert talk.status is NightTalkStatus.OPEN and talk.open_message_id

            assert "第 1 号" in await zhang.ask("建议 村口路灯坏了，晚上看不见路")
            # A reply to the opening note, on a platform with replies, is a suggestion too.
            await deliver_event(bot.app, event(LI, "li-reply-1", "东头的水渠该清一清了",
                                               reply_to=talk.open_message_id))
            assert "第 2 号" in await li.sees("第 2 号")
            assert "第 3 号" in await host.ask("/代提 赵婶 垃圾车一个礼拜才来一次")
            await say_by_voice(bot.url, WANG)
            assert "第 4 号" in await wang.sees("第 4 号")
            twice = event(WANG, "wang-dup-1", "建议 晚上巡逻多安排几个人")
            await deliver_event(bot.app, twice)
            await deliver_event(bot.app, twice)  # the platform delivered it again

            await scheduler.run_due(talk.ends_at)
            summary = await li.sees("【夜话结束】")

            raised = suggestions(bot.app)
            assert [s.id for s in raised] == [1, 2, 3, 4, 5]
            assert all(s.night_talk_id == talk.id for s in raised)
            assert raised[2].author_name == "赵婶" and raised[2].raised_by_name == FACILITATOR[1]
            assert raised[3].voice_path and raised[3].text == ""
            assert "共收到 5 条建议" in summary
            for line in ("1. 村口路灯坏了，晚上看不见路（张大爷，第1号）",
                         "2. 东头的水渠该清一清了（李婶，第2号）",
                         "3. 垃圾车一个礼拜才来一次（赵婶，第3号）",
                         "4. [语音建议]（王叔，第4号）",
                         "5. 晚上巡逻多安排几个人（王叔，第5号）"):
                assert line in summary
            assert talk_row(bot.app).status is NightTalkStatus.CLOSED

            told = await secretary.ask("/采纳 1 下个月装新路灯")
            assert "第 1 号建议" in told and "已采纳" in told and "下个月装新路灯" in told
            assert "@张大爷" in told  # the author is mentioned
            await secretary.ask("/暂不采纳 2 水渠归水利站管，已经转给他们")
            await secretary.ask("/采纳 3 跟镇里协调")
            done = await secretary.ask("/办结 3 垃圾车改成三天一趟了")
            assert "已办结" in done and "三天一趟" in done
            assert "第 1 号建议" in await zhang.sees("第 1 号建议")

    statuses = [s.status for s in suggestions(bot.app)]
    assert statuses == [SuggestionStatus.ADOPTED, SuggestionStatus.DECLINED,
                        SuggestionStatus.DONE, SuggestionStatus.NEW, SuggestionStatus.NEW]
    assert sum("【夜话结束】" in t for t in bot_texts(bot.app)) == 1


async def test_a_restart_during_an_open_night_talk_loses_nothing_and_still_closes(
    settings: Settings
) -> None:
    settings = replace(settings, grace_minutes=60)
    async with running(settings, prepare_village) as bot, \
            joined(bot.url, FACILITATOR) as host, joined(bot.url, ZHANG) as zhang:
        await host.ask("/安排夜话 明晚8点 垃圾怎么收")
        await host.say("确认")
        await zhang.sees("【夜话预告】")
        talk = talk_row(bot.app)
        await bot.app[SCHEDULER].run_due(talk.starts_at)
        await zhang.sees("【夜话开始】")
        await zhang.ask("建议 垃圾桶放到路口")
        await zhang.ask("建议 每周三收一次")
    # The bot goes down while the talk is open, and comes back before its end.
    async with running(settings) as bot, joined(bot.url, ZHANG) as zhang:
        assert len(suggestions(bot.app)) == 2
        await bot.app[SCHEDULER].run_due(talk.ends_at + timedelta(minutes=5))
        summary = await zhang.sees("【夜话结束】")
        assert "共收到 2 条建议" in summary and "垃圾桶放到路口" in summary
        assert talk_row(bot.app).status is NightTalkStatus.CLOSED
