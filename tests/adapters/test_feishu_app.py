"""Feishu through the real app: lessons, suggestions, decisions, forgeries and floods."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from aiohttp import web

from bot.app import SERVICES
from bot.core.models import Member, Suggestion, SuggestionStatus
from bot.settings import Settings
from scheduler.models import Delivery, DeliveryStatus
from tests.support.app import running
from tests.support.fakes.feishu import FakeFeishu, fake_feishu
from tests.support.feishu import CHAT, ENCRYPT_KEY, SECRET, TOKEN, VERIFICATION, ZHANG
from tests.support.polling import eventually
from tests.support.robots import (
    Clock,
    add_group,
    rows,
    schedule_lesson,
    served_mp3_seconds,
)

SECRETARY = ("ou_7d8a6e6df7621556ce0d21922b676706", "王书记")


def feishu_settings(settings: Settings, fake: FakeFeishu) -> Settings:
    return replace(settings, extra={
        "YEHUA_FEISHU_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}",
        "YEHUA_FEISHU_VERIFICATION_TOKEN": VERIFICATION,
        "YEHUA_FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
        "YEHUA_FEISHU_API_BASE": fake.url,
        "YEHUA_FEISHU_FLOOD_WAIT": "0.5"})


def prepare_group(app: web.Application) -> None:
    add_group(app, "feishu", CHAT, SECRETARY)


async def say(fake: FakeFeishu, url: str, who: str, text: str) -> int:
    """A member @-mentions the bot in the group; the status Feishu got back."""
    event = fake.message_event(CHAT, who, text, token=VERIFICATION)
    status, _ = await fake.post_event(url, event, encrypt_key=ENCRYPT_KEY)
    return status


async def test_a_scheduled_lesson_arrives_as_text_and_a_link_to_its_mp3(
        settings: Settings) -> None:
    async with fake_feishu() as fake:
        fake.add_bot(TOKEN, SECRET, keywords=["微党课", "语音"])
        async with running(feishu_settings(settings, fake), prepare_group) as bot:
            await schedule_lesson(bot, "feishu")
            text, audio = await eventually(lambda: len(fake.delivered(TOKEN)) == 2
                                           and fake.delivered(TOKEN))
            [[link]] = audio["content"]["post"]["zh_cn"]["content"]
            seconds = await served_mp3_seconds(bot, settings, link["href"])
            # The ledger records the post once the robot has answered for its last message.
            [delivery] = await eventually(lambda: [d for d in rows(bot, Delivery)
                                                   if d.status == DeliveryStatus.SENT])
    assert text["msg_type"] == "text" and text["content"]["text"].startswith("【微党课】")
    assert link["tag"] == "a" and "点这里听语音" in link["text"] and seconds > 1
    assert delivery.status == DeliveryStatus.SENT and all(s.ok for s in fake.sent)


async def test_a_suggestion_raised_in_the_group_is_stored_and_acknowledged_with_its_number(
        settings: Settings) -> None:
    async with fake_feishu() as fake, \
            running(feishu_settings(settings, fake), prepare_group) as bot:
        fake.add_bot(TOKEN, SECRET)
        assert await say(fake, bot.url, ZHANG, "建议 修一修枫树屋场的水渠") == 200
        # Stored by the time Feishu has its answer; the acknowledgement follows.
        [suggestion] = rows(bot, Suggestion)
        await bot.app[SERVICES].replies.drain()
        [ack] = fake.delivered(TOKEN)
    assert suggestion.text == "修一修枫树屋场的水渠" and suggestion.author_id == ZHANG
    # No private messages through a custom bot: one line in the group, @-mentioning the author.
    assert ack["content"]["text"] == (
        f'<at user_id="{ZHANG}"></at> 收到，您的建议记下了，是第 {suggestion.id} 号。'
        "村里看过后会在群里回您，想问进展就发“我的建议”。")


async def test_a_secretary_adopting_it_tells_the_group_mentioning_the_author(
        settings: Settings) -> None:
    async with fake_feishu() as fake, \
            running(feishu_settings(settings, fake), prepare_group) as bot:
        fake.add_bot(TOKEN, SECRET)
        await say(fake, bot.url, ZHANG, "建议 修一修枫树屋场的水渠")
        [suggestion] = rows(bot, Suggestion)
        await say(fake, bot.url, SECRETARY[0], f"/采纳 {suggestion.id} 下月请施工队来")
        [suggestion] = rows(bot, Suggestion)
        notice = fake.delivered(TOKEN)[-1]["content"]["text"]
    assert suggestion.status == SuggestionStatus.ADOPTED
    assert notice.startswith(f'<at user_id="{ZHANG}"></at> 第 {suggestion.id} 号建议（')
    assert "已采纳" in notice and "下月请施工队来" in notice


async def test_forged_or_stale_events_are_refused_and_nothing_is_stored(
        settings: Settings) -> None:
    async with fake_feishu() as fake, \
            running(feishu_settings(settings, fake), prepare_group) as bot:
        fake.add_bot(TOKEN, SECRET)
        event = fake.message_event(CHAT, ZHANG, "建议 把集体的鱼塘承包给我", token=VERIFICATION)
        statuses = [
            (await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY,
                                   sign_with="guess"))[0],
            (await fake.post_event(bot.url, event))[0],
            (await fake.post_event(bot.url, event, encrypt_key=ENCRYPT_KEY,
                                   timestamp=str(int(fake.wall()) - 7200)))[0],
            (await fake.post_event(bot.url, fake.message_event(
                CHAT, ZHANG, "建议 把集体的鱼塘承包给我", token="guess"),
                encrypt_key=ENCRYPT_KEY))[0]]
        members = [m.user_id for m in rows(bot, Member)]
        assert not rows(bot, Suggestion) and not fake.sent
    assert statuses == [401, 401, 403, 401]
    assert members == [SECRETARY[0]]


async def test_flood_control_is_survived_with_nothing_lost_and_nothing_doubled(
        settings: Settings) -> None:
    clock = Clock()
    async with fake_feishu(clock=clock) as fake:
        fake.add_bot(TOKEN, SECRET)
        fake.spend(TOKEN, 100)  # the bot's minute is used up by an alerting system
        async with running(feishu_settings(settings, fake), prepare_group) as bot:
            await schedule_lesson(bot, "feishu")
            await eventually(lambda: fake.rejected(11232))  # the lesson meets the flood
            # A suggestion is stored at once; its acknowledgement waits out the flood.
            raising = asyncio.create_task(say(fake, bot.url, ZHANG, "建议 路灯晚上十点就灭了"))
            await eventually(lambda: rows(bot, Suggestion))
            clock.now += 60  # the minute passes
            assert await raising == 200
            await eventually(lambda: rows(bot, Delivery)[0].status == DeliveryStatus.SENT
                             and len(fake.delivered(TOKEN)) == 3)
            bodies = fake.delivered(TOKEN)
            [suggestion] = rows(bot, Suggestion)
    texts = [b["content"].get("text", "") for b in bodies]
    assert sorted(b["msg_type"] for b in bodies) == ["post", "text", "text"]
    assert sum(t.startswith("【微党课】") for t in texts) == 1
    assert sum(t.endswith(f"收到，您的建议记下了，是第 {suggestion.id} 号。"
                          "村里看过后会在群里回您，想问进展就发“我的建议”。")
               for t in texts) == 1
