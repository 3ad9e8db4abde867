"""Telegram through the real app and the fake Bot API: lessons, suggestions, commands, notices."""

from __future__ import annotations

import pytest

from bot import texts
from bot.app import OUTBOX
from bot.core.adapter import AdapterError, RetryAfter
from bot.core.messages import OutgoingText
from bot.core.models import SuggestionStatus
from bot.settings import Settings
from scheduler.models import DeliveryStatus
from tests.support.app import running
from tests.support.fakes.telegram import FakeTelegram, start_fake_telegram
from tests.support.polling import eventually
from tests.support.telegram import (
    FAST,
    LI,
    SECRETARY,
    VILLAGE,
    ZHANG,
    answer_to,
    deliveries,
    groups,
    on_telegram,
    post_lesson,
    quick,
    stored,
    telegram_of,
    texts_with,
)


async def test_a_scheduled_lesson_arrives_as_text_then_an_ogg_opus_voice_note(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        await post_lesson(bot.app)
        [voice] = await eventually(lambda: telegram.to(VILLAGE, "voice"))
        [text] = telegram.to(VILLAGE, "text")
        assert text.text.startswith("【微党课】电动车充电，安全第一") and "主讲" in text.text
        assert text.at < voice.at
        assert voice.text == "电动车充电，安全第一"  # the caption
        assert voice.seconds > 5, "the fake decoded the OGG/Opus upload"
        assert voice.duration is not None and abs(voice.duration - voice.seconds) < 1.5
        [delivery] = await eventually(lambda: [d for d in deliveries(bot.app)
                                               if d.status == DeliveryStatus.SENT])
        assert delivery.text_message_id == str(text.message_id)


async def test_long_polling_delivers_a_suggestion_and_answers_it_with_its_number(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        said = telegram.say(VILLAGE, ZHANG, "建议 村口路灯坏了，晚上看不见路")
        answer = await answer_to(telegram, said)
        assert "第 1 号" in answer.text
        [suggestion] = stored(bot.app)
        assert (suggestion.platform, suggestion.chat_id) == ("telegram", str(VILLAGE))
        assert suggestion.message_id == str(said["message"]["message_id"])
        assert suggestion.author_name == "张大爷"
        assert suggestion.text == "村口路灯坏了，晚上看不见路"
        # The update is confirmed (forgotten by Telegram) once it was handled.
        await eventually(lambda: max(telegram.offsets) > said["update_id"])


async def test_help_addressed_to_the_bot_by_its_name_is_answered(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()):
        said = telegram.say(VILLAGE, LI, "/帮助@yehua_bot")
        answer = await answer_to(telegram, said)
        assert answer.text.startswith(texts.CMD_HELP_HEADING)
        assert telegram.called("getMe"), "the bot learned its name from Telegram"


async def test_a_secretarys_status_change_reaches_the_group_replying_and_mentioning_the_author(
    settings: Settings, telegram: FakeTelegram
) -> None:
    telegram.statuses[(VILLAGE, SECRETARY["id"])] = "creator"  # the group's owner
    async with running(on_telegram(settings, telegram), groups()) as bot:
        raised = telegram.say(VILLAGE, ZHANG, "建议 村口路灯坏了")
        await answer_to(telegram, raised, "第 1 号")
        telegram.say(VILLAGE, SECRETARY, "/采纳 1 下个月装新路灯")
        [notice] = await eventually(lambda: texts_with(telegram, "已采纳"))
        assert "第 1 号建议" in notice.text and "下个月装新路灯" in notice.text
        assert notice.reply_to == raised["message"]["message_id"]
        assert notice.text.startswith("@张大爷 ")
        assert notice.entities == [{"type": "text_mention", "offset": 0, "length": 4,
                                    "user": {"id": ZHANG["id"]}}]
        assert stored(bot.app)[0].status is SuggestionStatus.ADOPTED
        assert telegram.called("getChatMember"), "the role came from the group's owner status"


async def test_a_member_without_a_role_is_refused_a_secretarys_command(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        await answer_to(telegram, telegram.say(VILLAGE, ZHANG, "建议 修水渠"), "第 1 号")
        refused = await answer_to(telegram, telegram.say(VILLAGE, LI, "/采纳 1 好"))
        assert "第 1 号" not in refused.text
        assert stored(bot.app)[0].status is SuggestionStatus.NEW


async def test_a_known_username_is_mentioned_as_at_username(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups()) as bot:
        said = telegram.say(VILLAGE, LI, "建议 多讲讲防诈骗")
        await answer_to(telegram, said, "第 1 号")
        await bot.app[OUTBOX].send("telegram", str(VILLAGE), [
            OutgoingText("您的建议收到了。", mention=str(LI["id"]))])
        [sent] = texts_with(telegram, "您的建议收到了")
        assert sent.text == "@li_shen 您的建议收到了。" and not sent.entities


async def test_a_5000_character_text_arrives_in_two_messages_cut_at_a_sentence_end(
    settings: Settings, telegram: FakeTelegram
) -> None:
    sentence = "今年村里新修了三条水泥路，家家户户出门都方便多了。"
    text = (sentence * 200)[:5000]
    async with running(on_telegram(settings, telegram), groups()) as bot:
        [first_id] = await bot.app[OUTBOX].send("telegram", str(VILLAGE), [OutgoingText(text)])
        first, second = telegram.to(VILLAGE, "text")
        assert first_id == str(first.message_id)
        assert first.text.endswith("。") and len(first.text) <= 4096
        assert first.text + second.text == text
        assert telegram.floods == 0, "the second piece kept the per-chat pace"


async def test_flood_control_is_survived_with_nothing_lost_and_nothing_doubled(
    settings: Settings, telegram: FakeTelegram
) -> None:
    chats = [-1001000000100 - n for n in range(12)]
    # Telegram's limits are dynamic: besides the published ones, it may say "wait" anytime.
    telegram.fail(429, times=3, method="sendMessage")
    telegram.fail(429, times=3, method="sendVoice")
    async with running(on_telegram(settings, telegram), groups(*chats)) as bot:
        await post_lesson(bot.app)
        await eventually(lambda: [d.status for d in deliveries(bot.app)]
                         == [DeliveryStatus.SENT] * 12, within=30)
        for chat_id in chats:
            kinds = [s.kind for s in telegram.to(chat_id)]
            assert kinds == ["text", "voice"], (chat_id, kinds)
        assert telegram.floods >= 6


async def test_telegrams_flood_answer_reaches_the_outbox_as_retry_after(
    settings: Settings
) -> None:
    async with start_fake_telegram() as fake, \
            running(on_telegram(settings, fake), groups()) as bot:
        adapter = telegram_of(bot.app)
        await adapter.send(str(VILLAGE), OutgoingText("第一条"))
        with pytest.raises(RetryAfter) as flood:
            await adapter.send(str(VILLAGE), OutgoingText("第二条"))
        assert flood.value.seconds == 1 and fake.floods == 1
        assert [s.text for s in fake.to(VILLAGE)] == ["第一条"]


async def test_a_wrong_token_and_server_errors_are_told_apart(settings: Settings) -> None:
    async with start_fake_telegram(time_scale=FAST) as fake:
        wrong = on_telegram(settings, fake,
                            YEHUA_TELEGRAM_TOKEN="7000001:AAHnotTheRightTokenAtAll_0000000")
        async with running(wrong, groups()) as bot:
            with pytest.raises(AdapterError) as refused:
                await telegram_of(bot.app).send(str(VILLAGE), OutgoingText("你好"))
            assert not refused.value.transient and "Unauthorized" in str(refused.value)
        async with running(on_telegram(settings, fake), quick) as bot:
            fake.fail(502, times=1, method="sendMessage")
            with pytest.raises(AdapterError) as down:
                await telegram_of(bot.app).send(str(VILLAGE), OutgoingText("你好"))
            assert down.value.transient
            # Through the outbox the same fault is retried and the message arrives once.
            fake.fail(502, times=2, method="sendMessage")
            await bot.app[OUTBOX].send("telegram", str(VILLAGE), [OutgoingText("乡亲们好")])
            assert [s.text for s in fake.to(VILLAGE)] == ["乡亲们好"]
