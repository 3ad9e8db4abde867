"""Telegram's wire format on recorded JSON: updates to events, errors to exceptions, settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram.adapter import load_config, parse_update
from bot.adapters.telegram.wire import (
    ChatMigrated,
    check_response,
    migration,
    split_text,
    trim_caption,
    utf16_len,
    voice_note,
)
from bot.core.adapter import AdapterError, RetryAfter
from bot.settings import SettingsError

DATA = Path(__file__).parents[1] / "data" / "telegram"
VILLAGE = "-1001876543210"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text("utf-8"))
    return data


def test_a_group_message_becomes_an_event_with_its_author_and_chat() -> None:
    event = parse_update(sample("group_text"), "yehua_bot")
    assert event is not None
    assert (event.platform, event.chat_id, event.message_id) == ("telegram", VILLAGE, "4127")
    assert (event.user_id, event.user_name) == ("5123456789", "建国 张")
    assert event.text == "建议 村口的路灯坏了三盏，晚上老人出门看不见路"
    assert event.reply_to is None and event.voice is None and event.platform_role is None


def test_a_command_naming_this_bot_loses_the_name_and_one_for_another_bot_is_not_ours() -> None:
    mine = parse_update(sample("command_to_this_bot"), "yehua_bot")
    theirs = parse_update(sample("command_to_other_bot"), "yehua_bot")
    assert mine is not None and mine.text == "/suggest 多讲讲防诈骗"
    assert theirs is None  # the other bot answers it; we stay quiet
    unknown_name = parse_update(sample("command_to_this_bot"), "")
    assert unknown_name is not None and unknown_name.text.startswith("/suggest@Yehua_Bot")


def test_a_chinese_command_with_the_bots_name_is_plain_for_the_router() -> None:
    update = {"update_id": 1, "message": {
        "message_id": 9, "date": 1764154800, "text": "／帮助＠yehua_bot",
        "chat": {"id": -1001876543210, "type": "supergroup", "title": "村民群"},
        "from": {"id": 42, "is_bot": False, "first_name": "李婶"}}}
    event = parse_update(update, "yehua_bot")
    assert event is not None and event.text == "／帮助"


def test_a_reply_names_the_message_it_answers_but_a_topics_first_message_does_not() -> None:
    reply = parse_update(sample("reply_to_bot"))
    topic = parse_update(sample("topic_message"))
    assert reply is not None and reply.reply_to == "4130"
    assert topic is not None and topic.reply_to is None and topic.text.startswith("建议")


def test_an_anonymous_admin_speaks_as_the_group_with_the_admin_role() -> None:
    event = parse_update(sample("anonymous_admin"))
    assert event is not None
    assert event.platform_role == "admin" and event.user_name == "王书记"
    assert event.user_id == VILLAGE


def test_bots_edits_channel_forwards_and_migrations_are_no_events() -> None:
    for name in ("from_a_bot", "edited_message", "automatic_forward", "migrate_to",
                 "migrate_from"):
        assert parse_update(sample(name)) is None, name


def test_a_voice_message_is_an_event_whose_file_can_be_fetched() -> None:
    update = sample("voice")
    event = parse_update(update)
    note = voice_note(update)
    assert event is not None and event.text == "" and event.user_name == "王叔"
    assert note is not None and note.file_id.startswith("AwACAgUAAxkB")
    assert (note.duration, note.size) == (7, 28412)


def test_both_migration_notes_name_the_old_group_and_the_new_supergroup() -> None:
    expected = ("-4012345678", "-1004012345678")
    assert migration(sample("migrate_to")) == expected
    assert migration(sample("migrate_from")) == expected
    assert migration(sample("group_text")) is None


def test_platform_errors_become_the_typed_exceptions_the_outbox_acts_on() -> None:
    with pytest.raises(RetryAfter) as flood:
        check_response(429, sample("error_flood"))
    assert flood.value.seconds == 41
    with pytest.raises(RetryAfter) as zero:  # retry_after 0 is still flood control
        check_response(429, sample("error_flood_zero"))
    assert zero.value.seconds == 0
    with pytest.raises(ChatMigrated) as moved:
        check_response(400, sample("error_migrated"), chat_id="-4012345678")
    assert moved.value.new_chat_id == "-1004012345678" and moved.value.transient
    for name, status, transient in (("error_bad_gateway", 502, True),
                                    ("error_too_long", 400, False),
                                    ("error_kicked", 403, False),
                                    ("error_conflict", 409, False)):
        with pytest.raises(AdapterError) as error:
            check_response(status, sample(name))
        assert error.value.transient is transient, name
        assert not isinstance(error.value, RetryAfter)
    with pytest.raises(AdapterError) as html:
        check_response(504, "<html>Gateway Time-out</html>")
    assert html.value.transient
    assert check_response(200, {"ok": True, "result": {"message_id": 5}}) == {"message_id": 5}


def test_a_5000_character_text_splits_in_two_at_a_sentence_end() -> None:
    sentence = "村里的路灯今年全部换成了太阳能的，晚上出门更亮堂更安全了。"
    text = (sentence * (5000 // len(sentence) + 1))[:5000]
    pieces = split_text(text)
    assert len(pieces) == 2
    assert pieces[0].endswith("。") and utf16_len(pieces[0]) <= 4096
    assert "".join(pieces) == text


def test_a_long_text_without_sentence_ends_splits_at_a_newline_then_anywhere() -> None:
    lines = "\n".join(["一二三四五六七八九十" * 10] * 60)
    pieces = split_text(lines)
    assert all(utf16_len(p) <= 4096 for p in pieces) and pieces[0].endswith("\n")
    assert "".join(pieces) == lines
    emoji = "🌾" * 3000  # two UTF-16 units each: Telegram counts those
    assert [utf16_len(p) for p in split_text(emoji)] == [4096, 1904]


def test_a_long_caption_is_cut_to_telegrams_limit_with_an_ellipsis() -> None:
    caption = trim_caption("讲" * 1500)
    assert utf16_len(caption) == 1024 and caption.endswith("…")
    assert trim_caption("防诈骗小课堂") == "防诈骗小课堂"


def test_telegram_is_off_without_a_token_and_on_with_one() -> None:
    assert load_config({}) is None
    config = load_config({"YEHUA_TELEGRAM_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                          "YEHUA_TELEGRAM_BOT_NAME": "@yehua_bot"})
    assert config is not None and config.bot_name == "yehua_bot"
    assert config.api_base == "https://api.telegram.org" and not config.webhook
    assert "AAHdq" not in repr(config)


def test_a_webhook_secret_switches_the_webhook_on() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    config = load_config({"YEHUA_TELEGRAM_TOKEN": token,
                          "YEHUA_TELEGRAM_WEBHOOK_SECRET": "village-secret_1"})
    assert config is not None and config.webhook and config.secret == "village-secret_1"
    derived = load_config({"YEHUA_TELEGRAM_TOKEN": token, "YEHUA_TELEGRAM_WEBHOOK": "true"})
    assert derived is not None and derived.webhook
    assert len(derived.secret) == 64 and derived.secret != token


@pytest.mark.parametrize(("name", "value"), [
    ("YEHUA_TELEGRAM_TOKEN", "not-a-token"),
    ("YEHUA_TELEGRAM_API_BASE", "api.telegram.org"),
    ("YEHUA_TELEGRAM_BOT_NAME", "夜话"),
    ("YEHUA_TELEGRAM_WEBHOOK", "maybe"),
    ("YEHUA_TELEGRAM_WEBHOOK_SECRET", "has spaces"),
    ("YEHUA_TELEGRAM_POLL_TIMEOUT", "600"),
])
def test_a_bad_telegram_setting_stops_start_up_naming_the_variable(name: str, value: str
                                                                  ) -> None:
    env = {"YEHUA_TELEGRAM_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", name: value}
    with pytest.raises(SettingsError) as error:
        load_config(env)
    assert error.value.variable == name
    assert "AAHdq" not in str(error.value)
