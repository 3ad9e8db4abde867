"""DingTalk through the real app: lessons, suggestions, decisions, forgeries and floods."""

from __future__ import annotations

import re
from dataclasses import replace

from aiohttp import web

from bot.app import SERVICES
from bot.core.models import Member, Suggestion, SuggestionStatus
from bot.settings import Settings
from scheduler.models import Delivery, DeliveryStatus
from tests.support.app import running
from tests.support.dingtalk import APP_SECRET, CHAT, SECRET, TOKEN, ZHANG
from tests.support.fakes.dingtalk import FakeDingTalk, fake_dingtalk
from tests.support.polling import eventually
from tests.support.robots import (
    Clock,
    add_group,
    rows,
    schedule_lesson,
    served_mp3_seconds,
)

SECRETARY = ("manager7420", "王书记")


def dingtalk_settings(settings: Settings, fake: FakeDingTalk) -> Settings:
    return replace(settings, extra={
        "YEHUA_DINGTALK_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}",
        "YEHUA_DINGTALK_APP_SECRET": APP_SECRET,
        "YEHUA_DINGTALK_API_BASE": fake.url,
        "YEHUA_DINGTALK_FLOOD_WAIT": "0.5"})


def prepare_group(app: web.Application) -> None:
    add_group(app, "dingtalk", CHAT, SECRETARY)


async def test_a_scheduled_lesson_arrives_as_text_and_a_link_to_its_mp3(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake:
        fake.add_robot(TOKEN, SECRET, keywords=["微党课", "语音"])
        async with running(dingtalk_settings(settings, fake), prepare_group) as bot:
            await schedule_lesson(bot, "dingtalk")
            text, audio = await eventually(lambda: len(fake.delivered(TOKEN)) == 2
                                           and fake.delivered(TOKEN))
            link = re.search(r"\]\((\S+)\)", audio["markdown"]["text"])
            assert link is not None
            seconds = await served_mp3_seconds(bot, settings, link.group(1))
            # The ledger records the post once the robot has answered for its last message.
            [delivery] = await eventually(lambda: [d for d in rows(bot, Delivery)
                                                   if d.status == DeliveryStatus.SENT])
    assert text["msgtype"] == "text" and text["text"]["content"].startswith("【微党课】")
    assert audio["msgtype"] == "markdown" and "点这里听语音" in audio["markdown"]["text"]
    assert seconds > 1
    assert delivery.status == DeliveryStatus.SENT and all(s.ok for s in fake.sent)


async def test_a_suggestion_raised_with_an_at_is_stored_and_acknowledged_with_its_number(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake, \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        said = fake.at_message(CHAT, ZHANG, "建议 村口路灯坏了，晚上看不见路")
        assert await fake.callback(bot.url, said, app_secret=APP_SECRET) == 200
        # Stored by the time DingTalk has its answer; the acknowledgement follows.
        [suggestion] = rows(bot, Suggestion)
        await bot.app[SERVICES].replies.drain()
        [ack] = fake.delivered(f"session:{CHAT}")
        # DingTalk redelivers a callback it thinks failed: stored and answered once.
        assert await fake.callback(bot.url, said, app_secret=APP_SECRET) == 200
        await bot.app[SERVICES].replies.drain()
        assert len(rows(bot, Suggestion)) == 1 and len(fake.delivered(f"session:{CHAT}")) == 1
    assert suggestion.text == "村口路灯坏了，晚上看不见路"
    assert (suggestion.author_id, suggestion.author_name) == ZHANG
    assert suggestion.message_id == said["msgId"]
    # No private messages on DingTalk: one line in the group, @-mentioning the author.
    assert ack["text"]["content"] == (
        f"@{ZHANG[0]} 收到，您的建议记下了，是第 {suggestion.id} 号。"
        "村里看过后会在群里回您，想问进展就发“我的建议”。")
    assert ack["at"]["atUserIds"] == [ZHANG[0]]


async def test_a_secretary_adopting_it_tells_the_group_mentioning_the_author(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake, \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        await fake.callback(bot.url, fake.at_message(CHAT, ZHANG, "建议 村口路灯坏了"),
                            app_secret=APP_SECRET)
        [suggestion] = rows(bot, Suggestion)
        adopt = fake.at_message(CHAT, SECRETARY, f"/采纳 {suggestion.id} 已列入下月计划")
        assert await fake.callback(bot.url, adopt, app_secret=APP_SECRET) == 200
        [suggestion] = rows(bot, Suggestion)
        notice = fake.delivered(f"session:{CHAT}")[-1]
    assert suggestion.status == SuggestionStatus.ADOPTED
    assert notice["at"]["atUserIds"] == [ZHANG[0]]
    content = notice["text"]["content"]
    assert content.startswith(
        f"@{ZHANG[0]} 第 {suggestion.id} 号建议（张大爷：村口路灯坏了）已采纳")
    assert "已列入下月计划" in content


async def test_forged_unsigned_or_stale_callbacks_are_refused_and_nothing_is_stored(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake, \
            running(dingtalk_settings(settings, fake), prepare_group) as bot:
        fake.add_robot(TOKEN, SECRET)
        said = fake.at_message(CHAT, ZHANG, "建议 把集体的鱼塘承包给我")
        two_hours_ago = str(int((fake.wall() - 7200) * 1000))
        statuses = [
            await fake.callback(bot.url, said, app_secret="a-guessed-secret"),
            await fake.callback(bot.url, said, app_secret=APP_SECRET, headers={}),
            await fake.callback(bot.url, said, app_secret=APP_SECRET, timestamp=two_hours_ago)]
        members = [m.user_id for m in rows(bot, Member)]
        assert not rows(bot, Suggestion) and not fake.sent
    assert statuses == [401, 401, 403]
    assert members == [SECRETARY[0]]  # the forger was not even recorded as a member


async def test_flood_control_is_survived_with_nothing_lost_and_nothing_doubled(
        settings: Settings) -> None:
    clock = Clock()
    async with fake_dingtalk(clock=clock) as fake:
        fake.add_robot(TOKEN, SECRET)
        fake.spend(TOKEN, 19)  # an alerting system shares the robot: one send left this minute
        async with running(dingtalk_settings(settings, fake), prepare_group) as bot:
            await schedule_lesson(bot, "dingtalk")
            await eventually(lambda: fake.rejected(130101))
            clock.now += 60  # the minute passes
            await eventually(lambda: rows(bot, Delivery)[0].status == DeliveryStatus.SENT)
            bodies = fake.delivered(TOKEN)
    assert [b["msgtype"] for b in bodies] == ["text", "markdown"]
    assert bodies[0]["text"]["content"].startswith("【微党课】")
