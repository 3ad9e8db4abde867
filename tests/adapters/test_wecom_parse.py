"""WeCom without the network: recorded callbacks parsed, settings read, texts split by bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.wecom.adapter import load_config, parse_app_message, parse_robot_message
from bot.adapters.wecom.messages import (
    MARKDOWN_LIMIT,
    TEXT_LIMIT,
    app_picture,
    robot_picture,
    split_by_bytes,
    text_bodies,
    utf8_len,
    xml_fields,
)
from bot.core.messages import OutgoingText
from bot.settings import SettingsError

DATA = Path(__file__).parents[1] / "data" / "wecom"
GROUP = "wrkSFfCgAAo8sF2vM1xRcm6Cl6x6oVqw"
KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text("utf-8"))
    return data


def test_an_at_mention_in_the_group_becomes_the_members_text_without_the_robots_name() -> None:
    event = parse_robot_message(recorded("robot_text_group.json"))
    assert event is not None
    assert event.chat_id == GROUP and event.user_id == "ZhangDaYe"
    assert event.text == "建议 村口路灯坏了，晚上看不见路"
    assert event.message_id == "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="


def test_text_and_pictures_together_keep_the_text_parts() -> None:
    event = parse_robot_message(recorded("robot_mixed_group.json"))
    assert event is not None
    assert event.text == "建议 水渠这里堵了\n照片是今天早上拍的"


def test_a_voice_message_arrives_as_its_transcript_in_the_private_chat() -> None:
    event = parse_robot_message(recorded("robot_voice_single.json"))
    assert event is not None
    assert event.chat_id == "WangShu" and event.text == "建议把垃圾桶往东边挪一挪"


def test_a_picture_alone_is_a_message_without_words_naming_where_to_fetch_it() -> None:
    payload = recorded("robot_image_single.json")
    event = parse_robot_message(payload)
    assert event is not None and event.text == "" and event.chat_id == "WangShu"
    assert robot_picture(payload) == \
        "https://ww-aibot-img-1258476243.cos.ap-guangzhou.myqcloud.com/def"


def test_text_and_pictures_together_name_the_picture_too() -> None:
    url = robot_picture(recorded("robot_mixed_group.json"))
    assert url is not None and url.startswith("https://")


@pytest.mark.parametrize("name", ["robot_event_enter_chat.json", "robot_stream_refresh.json"])
def test_events_and_stream_refreshes_are_not_messages(name: str) -> None:
    assert parse_robot_message(recorded(name)) is None


def test_an_app_message_belongs_to_the_chat_named_by_its_agent_id() -> None:
    event = parse_app_message((DATA / "app_text.xml").read_text("utf-8"))
    assert event is not None and event.chat_id == "218" and event.text == "hello"


def test_xml_with_entities_is_refused() -> None:
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'
    with pytest.raises(ValueError):
        parse_app_message(bomb)


def test_no_robot_means_wecom_is_off() -> None:
    assert load_config({"YEHUA_PORT": "8080"}) is None


def test_one_robot_by_its_webhook_url_and_more_by_chat_key_pairs() -> None:
    config = load_config({
        "YEHUA_WECOM_WEBHOOK_KEY":
            f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
        "YEHUA_WECOM_ROBOTS": f"{GROUP}:abc-1, 1000002:def-2",
    })
    assert config is not None
    assert dict(config.robots) == {"default": KEY, GROUP: "abc-1", "1000002": "def-2"}
    assert config.api_base == "https://qyapi.weixin.qq.com" and not config.callback


@pytest.mark.parametrize(("env", "variable"), [
    ({"YEHUA_WECOM_ROBOTS": "no-colon-here"}, "YEHUA_WECOM_ROBOTS"),
    ({"YEHUA_WECOM_ROBOTS": "a:k1,a:k2"}, "YEHUA_WECOM_ROBOTS"),
    ({"YEHUA_WECOM_WEBHOOK_KEY": "has spaces"}, "YEHUA_WECOM_WEBHOOK_KEY"),
    ({"YEHUA_WECOM_TOKEN": "tok", "YEHUA_WECOM_AES_KEY": AES}, "YEHUA_WECOM_WEBHOOK_KEY"),
    ({"YEHUA_WECOM_WEBHOOK_KEY": KEY, "YEHUA_WECOM_TOKEN": "tok"}, "YEHUA_WECOM_AES_KEY"),
    ({"YEHUA_WECOM_WEBHOOK_KEY": KEY, "YEHUA_WECOM_TOKEN": "tok",
      "YEHUA_WECOM_AES_KEY": AES[:-2]}, "YEHUA_WECOM_AES_KEY"),
    ({"YEHUA_WECOM_WEBHOOK_KEY": KEY, "YEHUA_WECOM_API_BASE": "qyapi"}, "YEHUA_WECOM_API_BASE"),
    ({"YEHUA_WECOM_WEBHOOK_KEY": KEY, "YEHUA_WECOM_LESSON_FORMAT": "html"},
     "YEHUA_WECOM_LESSON_FORMAT"),
])
def test_a_bad_setting_stops_start_up_naming_the_variable(env: dict[str, str],
                                                          variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_config(env)
    assert caught.value.variable == variable


def test_six_thousand_bytes_of_chinese_markdown_split_at_sentence_ends_within_4096_bytes(
) -> None:
    sentence = "乡亲们要记住，电动车不要在楼道里充电。"  # 19 characters, 57 bytes
    text = sentence * 106  # 6,042 bytes
    assert utf8_len(text) > 6000
    pieces = split_by_bytes(text, MARKDOWN_LIMIT)
    assert len(pieces) == 2
    assert all(utf8_len(p) <= MARKDOWN_LIMIT for p in pieces)
    assert all(p.endswith("。") for p in pieces)  # each ends at a sentence end
    assert "".join(pieces) == text  # nothing lost, nothing doubled


def test_a_text_without_sentence_ends_is_cut_between_characters_never_inside_one() -> None:
    text = "路灯🌙" * 1000  # 3- and 4-byte characters, no punctuation at all
    pieces = split_by_bytes(text, TEXT_LIMIT)
    assert all(utf8_len(p) <= TEXT_LIMIT for p in pieces)
    assert "".join(pieces) == text
    for piece in pieces:
        piece.encode().decode()  # each piece is whole UTF-8 on its own


def test_a_lesson_goes_as_markdown_with_a_bold_headline_and_a_notice_as_text_with_mention(
) -> None:
    lesson = OutgoingText("【微党课】电动车安全\n主讲：消防员\n\n乡亲们好！", lesson_slug="ebike")
    [body] = text_bodies(lesson, markdown=True, mention=None)
    assert body["msgtype"] == "markdown"
    assert body["markdown"] == {"content": "**【微党课】电动车安全**\n主讲：消防员\n\n乡亲们好！"}
    [notice] = text_bodies(OutgoingText("第 1 号建议已采纳。"), markdown=False,
                           mention="ZhangDaYe")
    assert notice == {"msgtype": "text", "text": {"content": "第 1 号建议已采纳。",
                                                  "mentioned_list": ["ZhangDaYe"]}}


def test_an_app_picture_names_its_pic_url_and_carries_no_words() -> None:
    xml = ("<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[ZhangDaYe]]>"
           "</FromUserName><CreateTime>1765432100</CreateTime><MsgType><![CDATA[image]]>"
           "</MsgType><PicUrl><![CDATA[https://wework.qpic.cn/wwpic/abc/0]]></PicUrl>"
           "<MediaId><![CDATA[1x2y3z]]></MediaId><MsgId>4561255354251345931</MsgId>"
           "<AgentID>1000002</AgentID></xml>")
    event = parse_app_message(xml)
    assert event is not None and event.text == "" and event.chat_id == "1000002"
    assert app_picture(xml_fields(xml)) == "https://wework.qpic.cn/wwpic/abc/0"
