"""QQ through OneBot v11, end to end: the real app against a fake NapCat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER, SERVICES
from bot.core.db import session
from bot.core.models import Group, Member, NightTalk, SuggestionStatus
from bot.settings import Settings
from lessons.audio import probe
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import (
    ADMIN,
    GROUP,
    LI,
    OTHER_GROUP,
    OWNER,
    ZHANG,
    prepare_qq_groups,
    said,
    stored,
    with_onebot,
)
from tests.support.polling import eventually
from tests.support.recordings import recording


async def schedule_lesson(app: web.Application, *groups: int) -> None:
    with session(app[ENGINE]) as db:
        rows = db.exec(select(Group).where(col(Group.chat_id).in_([str(g) for g in groups])))
        add_schedule(db, "ebike-charging", [(g.id or 0, g.timezone) for g in rows],
                     run_at=utcnow() + timedelta(seconds=1))
    await app[SCHEDULER].rearm()


def deliveries(app: web.Application) -> list[Delivery]:
    with session(app[ENGINE]) as db:
        return list(db.exec(select(Delivery)))


async def test_a_scheduled_lesson_reaches_the_qq_group_as_text_then_mp3_voice(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        await schedule_lesson(bot.app, GROUP)
        text, voice = await eventually(lambda: len(napcat.in_group(GROUP)) >= 2
                                       and napcat.in_group(GROUP))
        # The ledger records the post once NapCat has answered for its last message.
        [delivery] = await eventually(lambda: [d for d in deliveries(bot.app)
                                               if d.status == DeliveryStatus.SENT])
    assert text.text.startswith("【微党课】") and "充电" in text.text
    assert [s["type"] for s in voice.segments] == ["record"]  # a QQ voice carries nothing else
    assert voice.record_file.startswith("base64://")
    assert voice.audio_codec.startswith("mp3") and voice.audio_seconds > 1
    assert probe(voice.audio).codec == "mp3"
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.text_message_id == str(text.message_id)
    assert delivery.audio_message_id == str(voice.message_id)
    assert {via for _action, _params, via in napcat.calls} == {"http"}


async def test_a_suggestion_raised_in_the_group_is_stored_before_qq_is_answered_and_acked(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        event = napcat.group_message(GROUP, ZHANG, said(" 建议 村口路灯坏了", at_bot=True),
                                     card="张大爷")
        assert (await napcat.post_event(bot.url, event))[0] == 204
        # QQ's answer came after the suggestion was stored; the acknowledgement follows, to
        # the author alone (a temporary session from the group), not to the whole group.
        [row] = stored(bot.app)
        await bot.app[SERVICES].replies.drain()
        [ack] = napcat.to_user(ZHANG)
        assert (await napcat.post_event(bot.url, event))[0] == 204  # QQ delivered it again
        await bot.app[SERVICES].replies.drain()
        assert len(stored(bot.app)) == 1 and len(napcat.to_user(ZHANG)) == 1
        assert napcat.in_group(GROUP) == []
    assert (row.text, row.author_name, row.author_id) == ("村口路灯坏了", "张大爷", str(ZHANG))
    assert row.platform == "onebot" and row.message_id == str(event["message_id"])
    assert row.hamlet == "上屋场"
    assert "第 1 号" in ack.text
    assert ("send_private_msg", {"user_id": ZHANG, "group_id": GROUP,
                                 "message": [{"type": "text", "data": {"text": ack.text}}]},
            "http") in napcat.calls


async def test_a_cq_code_string_message_raises_a_suggestion_with_its_text_unescaped(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        event = napcat.group_message(GROUP, LI, said("建议 东头水渠[三组]该清一清了 & 修一下"),
                                     nickname="李婶", string_format=True)
        assert "&#91;三组&#93;" in event["message"]
        assert (await napcat.post_event(bot.url, event))[0] == 204
        [row] = stored(bot.app)
    assert row.text == "东头水渠[三组]该清一清了 & 修一下" and row.author_name == "李婶"


async def test_a_group_owner_adopts_and_the_author_is_told_quoted_and_mentioned(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        raised = napcat.group_message(GROUP, ZHANG, said("建议 村口路灯坏了"), card="张大爷")
        await napcat.post_event(bot.url, raised)
        # A group admin hosts night talks but cannot decide on suggestions.
        await napcat.post_event(bot.url, napcat.group_message(
            GROUP, ADMIN, said("/采纳 1 好"), role="admin", card="李伯"))
        await bot.app[SERVICES].replies.drain()
        assert "对不起" in napcat.to_user(ADMIN)[-1].text  # a refusal for the admin alone
        assert stored(bot.app)[0].status is SuggestionStatus.NEW
        await napcat.post_event(bot.url, napcat.group_message(
            GROUP, OWNER, said("/采纳 1 下个月装新路灯"), role="owner", card="王书记"))
        await bot.app[SERVICES].replies.drain()
        notice = napcat.in_group(GROUP)[-1]
        [row] = stored(bot.app)
        with session(bot.app[ENGINE]) as db:
            owner = db.exec(select(Member).where(Member.user_id == str(OWNER))).one()
    assert row.status is SuggestionStatus.ADOPTED and row.reply == "下个月装新路灯"
    assert "第 1 号建议" in notice.text and "已采纳" in notice.text
    assert "下个月装新路灯" in notice.text
    assert notice.first("reply") == {"id": str(raised["message_id"])}
    assert notice.first("at") == {"qq": str(ZHANG)}
    assert owner.display_name == "王书记"


async def test_a_reply_to_the_night_talk_opening_and_a_voice_message_become_suggestions(
    settings: Settings, napcat: FakeNapCat
) -> None:
    napcat.voices["4f0c1d2e.amr"] = recording(3.0, container="mp3", codec="libmp3lame",
                                              rate=24_000, bit_rate=48_000)
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        for command in ("/安排夜话 明晚7点半 村里修路 地点：枫树屋场", "确认", "/开始夜话"):
            await napcat.post_event(bot.url, napcat.group_message(
                GROUP, ADMIN, said(command), role="admin", card="李伯"))  # a group admin hosts
        opening = next(s for s in napcat.in_group(GROUP) if "【夜话开始】" in s.text)
        reply = napcat.group_message(GROUP, LI, [
            {"type": "reply", "data": {"id": str(opening.message_id)}},
            {"type": "text", "data": {"text": "东头的水渠该清一清了"}}], nickname="李婶")
        await napcat.post_event(bot.url, reply)
        voice = napcat.group_message(GROUP, ZHANG, [{"type": "record", "data": {
            "file": "4f0c1d2e.amr", "file_size": "6128"}}], card="张大爷")
        await napcat.post_event(bot.url, voice)
        await bot.app[SERVICES].replies.drain()
        with session(bot.app[ENGINE]) as db:
            talk = db.exec(select(NightTalk)).one()
        rows = stored(bot.app)
        acks = [napcat.to_user(LI)[-1].text, napcat.to_user(ZHANG)[-1].text]
    assert talk.open_message_id == str(opening.message_id)
    assert [(r.text, r.author_name, r.night_talk_id) for r in rows] == [
        ("东头的水渠该清一清了", "李婶", talk.id), ("", "张大爷", talk.id)]
    assert "第 1 号" in acks[0] and "第 2 号" in acks[1]
    assert rows[1].voice_path is not None
    assert probe(await asyncio.to_thread(Path(rows[1].voice_path).read_bytes)).duration_s > 2
    assert ("get_record", {"file": "4f0c1d2e.amr", "out_format": "mp3"}, "http") in napcat.calls


async def test_flood_control_is_survived_with_nothing_lost_and_nothing_doubled(
    settings: Settings, napcat: FakeNapCat
) -> None:
    napcat.fail_next(3, "frequency")  # QQ says "too fast" to the first three sends
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        await schedule_lesson(bot.app, GROUP, OTHER_GROUP)
        await eventually(lambda: len(napcat.sent) >= 4
                         and all(d.status == DeliveryStatus.SENT for d in deliveries(bot.app)))
    assert napcat.refused == ["frequency"] * 3
    for group in (GROUP, OTHER_GROUP):
        text, voice = napcat.in_group(group)  # exactly one text and one voice, in order
        assert text.text.startswith("【微党课】") and voice.audio_codec.startswith("mp3")
