"""OneBot v11 without a network: recorded events parsed, CQ codes, signatures, settings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.onebot.adapter import load_config, parse_event
from bot.adapters.onebot.wire import (
    check_response,
    escape,
    parse_cq,
    signature,
    signature_ok,
    voice_of,
)
from bot.adapters.splitting import split_text
from bot.core.adapter import AdapterError, RetryAfter
from bot.settings import SettingsError

DATA = Path(__file__).parents[1] / "data" / "onebot"


def recorded(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text("utf-8"))
    return payload


def test_a_recorded_napcat_group_message_to_the_bot_becomes_an_incoming_message() -> None:
    message = parse_event(recorded("napcat_group_at_bot"))
    assert message is not None
    assert (message.platform, message.chat_id, message.message_id) == ("onebot", "987654321",
                                                                       "2002")
    assert (message.user_id, message.user_name) == ("345678901", "张大爷")  # the group card
    assert message.text == "建议 村口路灯坏了，晚上看不见路"  # the @ to the bot is dropped
    assert message.platform_role == "member" and message.reply_to is None


def test_a_cq_code_string_message_is_parsed_and_unescaped() -> None:
    message = parse_event(recorded("napcat_group_cq_string"))
    assert message is not None
    assert message.text == "建议 东头水渠[三组]该清一清了 & 修一下"
    assert message.reply_to == "1888" and message.message_id == "-2147481234"
    assert message.user_name == "李婶" and message.platform_role == "admin"


def test_cq_codes_escape_and_unescape_both_ways() -> None:
    text = "修路[急], A&B"
    segments = parse_cq(f"{escape(text)}[CQ:at,qq=1,name={escape('张,三', in_param=True)}]")
    assert segments == [{"type": "text", "data": {"text": text}},
                        {"type": "at", "data": {"qq": "1", "name": "张,三"}}]


def test_an_owner_quoting_a_message_carries_the_quote_and_the_owner_role() -> None:
    message = parse_event(recorded("napcat_group_reply_owner"))
    assert message is not None
    assert message.reply_to == "1888" and message.platform_role == "owner"
    assert message.text == "@张大爷  这个我们记下了"
    assert message.user_name == "王书记（村支书）"


def test_a_voice_message_has_its_record_segment_found() -> None:
    payload = recorded("napcat_group_voice")
    message = parse_event(payload)
    assert message is not None and message.text == ""
    segment = voice_of(payload)
    assert segment is not None and segment["file"] == "4f0c1d2e3b7a49a8b1c2d3e4f5a6b7c8.amr"


@pytest.mark.parametrize("name", ["napcat_self_message_sent", "napcat_heartbeat",
                                  "napcat_private_message", "napcat_group_recall"])
def test_the_bots_own_posts_meta_events_private_chats_and_notices_are_not_messages(
    name: str
) -> None:
    assert parse_event(recorded(name)) is None


def test_the_bots_own_message_reported_as_a_plain_message_is_ignored_too() -> None:
    payload = recorded("napcat_self_message_sent") | {"post_type": "message"}
    assert parse_event(payload) is None


def test_anonymous_members_are_told_apart_by_their_alias() -> None:
    message = parse_event(recorded("gocq_group_anonymous"))
    assert message is not None
    assert message.user_id == "anonymous:2649281004" and message.user_name == "瑞兽"
    assert message.platform_role is None and message.text == "建议 村里多装几个垃圾桶"


def test_an_event_without_a_sender_role_leaves_the_role_open() -> None:
    message = parse_event(recorded("lagrange_group_no_role"))
    assert message is not None and message.platform_role is None
    assert message.text == "/采纳 1 下个月装新路灯"


def test_the_signature_matches_the_reference_test_vector() -> None:
    body = b'{"post_type":"message"}'
    expected = "sha1=830755ba6ede0b1a52d8bc63f0379378fa63219c"
    assert signature("s3cr3t", body) == expected
    assert signature_ok("s3cr3t", body, expected)
    assert not signature_ok("s3cr3t", body + b" ", expected)
    assert not signature_ok("other", body, expected)


def test_long_text_is_split_after_sentence_ends_and_nothing_is_lost() -> None:
    sentence = "乡亲们好！今天讲讲电动车充电的安全。" * 3  # 54 characters
    text = "\n".join([sentence] * 20)
    pieces = split_text(text, 200)
    assert all(len(p) <= 200 for p in pieces) and len(pieces) > 1
    assert all(p.endswith(("。", "！")) for p in pieces)
    # Only the newlines where a cut fell go; every character of the lesson is posted.
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert split_text("短消息。", 200) == ["短消息。"]
    assert split_text("没有标点" * 100, 150)[0] == ("没有标点" * 100)[:150]


def test_platform_answers_map_to_typed_errors() -> None:
    def failed(message: str, retcode: int = 200) -> dict[str, Any]:
        return {"status": "failed", "retcode": retcode, "data": None, "message": message}

    assert check_response("x", 200, {"status": "ok", "retcode": 0, "data": {"a": 1}},
                          flood_pause=5) == {"a": 1}
    with pytest.raises(RetryAfter) as flood:
        check_response("x", 200, failed("发送频率过快，请10秒后再试"), flood_pause=5)
    assert flood.value.seconds == 10
    with pytest.raises(RetryAfter) as gocq:
        check_response("x", 200, failed("SEND_MSG_API_ERROR", 100), flood_pause=5)
    assert gocq.value.seconds == 5
    with pytest.raises(RetryAfter) as zero:
        check_response("x", 429, None, flood_pause=5, retry_after="0")
    assert zero.value.seconds == 0  # `retry_after: 0` is a wait of zero, not "no wait given"
    for status in (500, 502):
        with pytest.raises(AdapterError) as server:
            check_response("x", status, None, flood_pause=5)
        assert server.value.transient
    for status, body in ((401, None), (403, {"message": "token verify failed!"}), (404, None),
                         (200, failed("参数错误", 1400)), (200, failed("群不存在", 100))):
        with pytest.raises(AdapterError) as refused:
            check_response("x", status, body, flood_pause=5)
        assert not refused.value.transient and not isinstance(refused.value, RetryAfter)


def test_onebot_is_off_until_its_settings_are_given() -> None:
    assert load_config({}) is None
    assert load_config({"YEHUA_ONEBOT_VOICE": "url", "YEHUA_ONEBOT_TIMEOUT": "5"}) is None


def test_an_empty_access_token_stops_start_up_and_names_the_variable() -> None:
    with pytest.raises(SettingsError) as refused:
        load_config({"YEHUA_ONEBOT_API_ROOT": "http://127.0.0.1:3000",
                     "YEHUA_ONEBOT_ACCESS_TOKEN": "  "})
    assert refused.value.variable == "YEHUA_ONEBOT_ACCESS_TOKEN"
    assert "hijacked" in str(refused.value) and "YEHUA_ONEBOT_ALLOW_NO_TOKEN" in str(refused.value)


def test_running_without_a_token_needs_the_explicit_override() -> None:
    config = load_config({"YEHUA_ONEBOT_API_ROOT": "http://127.0.0.1:3000/",
                          "YEHUA_ONEBOT_ALLOW_NO_TOKEN": "true"})
    assert config is not None and config.access_token == "" and config.allow_no_token
    assert config.api_root == "http://127.0.0.1:3000"


@pytest.mark.parametrize(("variable", "value"), [
    ("YEHUA_ONEBOT_API_ROOT", "127.0.0.1:3000"), ("YEHUA_ONEBOT_SELF_ID", "夜话"),
    ("YEHUA_ONEBOT_VOICE", "silk"), ("YEHUA_ONEBOT_TIMEOUT", "0"),
    ("YEHUA_ONEBOT_SENDS_PER_SECOND", "fast"), ("YEHUA_ONEBOT_ALLOW_NO_TOKEN", "maybe")])
def test_a_bad_onebot_setting_is_named(variable: str, value: str) -> None:
    env = {"YEHUA_ONEBOT_ACCESS_TOKEN": "t0ken", variable: value}
    with pytest.raises(SettingsError) as bad:
        load_config(env)
    assert bad.value.variable == variable


def test_every_onebot_setting_is_documented_in_env_example_and_the_guide() -> None:
    root = Path(__file__).parents[2]
    source = (root / "bot" / "adapters" / "onebot" / "config.py").read_text("utf-8")
    used = set(re.findall(r"YEHUA_ONEBOT_[A-Z_]+[A-Z]", source))
    assert len(used) == 9
    for document in (root / ".env.example", root / "docs" / "platforms" / "onebot.md"):
        text = document.read_text("utf-8")
        assert not [name for name in used if name not in text], document.name
