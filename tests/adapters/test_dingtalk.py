"""The DingTalk adapter against the fake DingTalk: signing, pieces, errors, callbacks, parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote_plus

import aiohttp
import pytest

from bot.adapters.media import Media
from bot.adapters.robots.common import Robot, split_for_robot
from bot.adapters.robots.dingtalk import (
    MAX_PIECE_BYTES,
    DingTalkAdapter,
    DingTalkConfig,
    load_config,
    parse_message,
    picture_code,
    sign,
)
from bot.core.adapter import AdapterError, RetryAfter
from bot.core.messages import IncomingMessage, OutgoingAudio, OutgoingText
from bot.settings import SettingsError
from tests.support.dingtalk import APP_SECRET, CHAT, SECRET, TOKEN, ZHANG
from tests.support.fakes.dingtalk import FakeDingTalk, fake_dingtalk
from tests.support.robots import (
    Clock,
    serving,
)

DATA = Path(__file__).parents[1] / "data" / "dingtalk"


@asynccontextmanager
async def running_adapter(fake: FakeDingTalk, config: DingTalkConfig, tmp_path: Path
                          ) -> AsyncIterator[tuple[DingTalkAdapter, str, list[IncomingMessage]]]:
    """The DingTalk adapter pointed at the fake, serving its callback."""
    adapter = DingTalkAdapter(config, media=Media(tmp_path, "http://bot.example.cn"))
    async with serving(adapter) as (url, heard):
        yield adapter, url, heard


def config_for(fake: FakeDingTalk, secret: str = SECRET) -> DingTalkConfig:
    return DingTalkConfig(robots={CHAT: Robot(CHAT, TOKEN, secret)}, api_base=fake.url,
                          app_secret=APP_SECRET, flood_wait=7.0)


def test_signing_matches_the_published_test_vector() -> None:
    raw = sign("SECtest", "1577262236757")
    assert raw == "Za/ne6w2koB8B4ROVlgTNd/X+/FbyDpZrXLz57xNZSA="
    assert quote_plus(raw) == "Za%2Fne6w2koB8B4ROVlgTNd%2FX%2B%2FFbyDpZrXLz57xNZSA%3D"


def test_settings_switch_dingtalk_on_and_name_a_bad_variable() -> None:
    assert load_config({}) is None
    config = load_config({"YEHUA_DINGTALK_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}, cid2==:tok2"})
    assert config is not None and config.api_base == "https://oapi.dingtalk.com"
    assert config.robots[CHAT] == Robot(CHAT, TOKEN, SECRET)
    assert config.robots["cid2=="].secret == "" and not config.app_secret
    single = load_config({"YEHUA_DINGTALK_ACCESS_TOKEN": TOKEN, "YEHUA_DINGTALK_SECRET": SECRET,
                          "YEHUA_DINGTALK_CHAT_ID": CHAT})
    assert single is not None and single.robots == {CHAT: Robot(CHAT, TOKEN, SECRET)}
    inbound = load_config({"YEHUA_DINGTALK_APP_SECRET": APP_SECRET})
    assert inbound is not None and inbound.app_secret == APP_SECRET and not inbound.robots
    for env, variable in [({"YEHUA_DINGTALK_ROBOTS": "just-a-token"}, "YEHUA_DINGTALK_ROBOTS"),
                          ({"YEHUA_DINGTALK_ACCESS_TOKEN": TOKEN}, "YEHUA_DINGTALK_CHAT_ID"),
                          ({"YEHUA_DINGTALK_APP_SECRET": "x", "YEHUA_DINGTALK_API_BASE":
                            "oapi.dingtalk.com"}, "YEHUA_DINGTALK_API_BASE"),
                          ({"YEHUA_DINGTALK_APP_SECRET": "x", "YEHUA_DINGTALK_FLOOD_WAIT": "0"},
                           "YEHUA_DINGTALK_FLOOD_WAIT")]:
        with pytest.raises(SettingsError) as error:
            load_config(env)
        assert error.value.variable == variable


async def test_a_signed_text_mentioning_the_author_reaches_the_robot(tmp_path: Path) -> None:
    async with fake_dingtalk() as fake, running_adapter(fake, config_for(fake), tmp_path) as (
            adapter, _url, _heard):
        fake.add_robot(TOKEN, SECRET)
        message_id = await adapter.send(CHAT, OutgoingText("第 1 号建议已采纳。",
                                                           mention=ZHANG[0]))
        await adapter.send(CHAT, OutgoingText("第 2 号建议已办结。",
                                              mention="$:LWCP_v1:$Zt6wP2nQ8vR4xC0mB7kLsD=="))
        body, outsider = fake.delivered(TOKEN)
    assert message_id
    # Someone from outside the organisation has no staff id to @: the notice goes plain.
    assert outsider == {"msgtype": "text", "text": {"content": "第 2 号建议已办结。"}}
    assert body["msgtype"] == "text" and body["at"]["atUserIds"] == [ZHANG[0]]
    assert body["text"]["content"] == f"@{ZHANG[0]} 第 1 号建议已采纳。"


async def test_audio_goes_as_a_markdown_link_to_the_mp3_the_bot_serves(tmp_path: Path) -> None:
    clip = tmp_path / "0123456789abcdef0123.mp3"
    async with fake_dingtalk() as fake, running_adapter(fake, config_for(fake), tmp_path) as (
            adapter, _url, _heard):
        fake.add_robot(TOKEN, SECRET)
        await adapter.send(CHAT, OutgoingAudio(clip, 150.4, caption="电动车充电安全"))
        [body] = fake.delivered(TOKEN)
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "电动车充电安全"
    assert "(http://bot.example.cn/media/0123456789abcdef0123.mp3)" in body["markdown"]["text"]
    assert "2分30秒" in body["markdown"]["text"]


async def test_a_wrong_secret_is_refused_by_dingtalk_and_not_worth_retrying(
        tmp_path: Path) -> None:
    async with fake_dingtalk() as fake, running_adapter(
            fake, config_for(fake, secret="SECwrong"), tmp_path) as (adapter, _url, _heard):
        fake.add_robot(TOKEN, SECRET)
        with pytest.raises(AdapterError) as error:
            await adapter.send(CHAT, OutgoingText("乡亲们好"))
        assert not fake.delivered(TOKEN)
    assert "310000" in str(error.value) and not error.value.transient
    assert not isinstance(error.value, RetryAfter)


async def test_a_long_text_goes_in_pieces_cut_at_sentence_ends(tmp_path: Path) -> None:
    sentence = "乡亲们要记住，电动车不要推进楼道里充电，更不要从窗口拉电线。"
    text = "【微党课】电动车充电安全\n" + sentence * 400  # about 36,000 bytes
    async with fake_dingtalk() as fake, running_adapter(fake, config_for(fake), tmp_path) as (
            adapter, _url, _heard):
        fake.add_robot(TOKEN, SECRET)
        await adapter.send(CHAT, OutgoingText(text))
        pieces = [body["text"]["content"] for body in fake.delivered(TOKEN)]
    assert len(pieces) == 3 and all(s.ok for s in fake.sent)
    assert all(piece.endswith("。") for piece in pieces)
    assert "".join(pieces) == text


def test_text_without_sentence_ends_is_cut_where_it_must() -> None:
    text = "路" * 20_000
    pieces = split_for_robot(text, MAX_PIECE_BYTES)
    assert "".join(pieces) == text and len(pieces) == 4
    assert all(len(piece.encode()) <= MAX_PIECE_BYTES for piece in pieces)
    assert split_for_robot("  乡亲们好！\n", MAX_PIECE_BYTES) == ["乡亲们好！"]


async def test_too_fast_asks_to_wait_and_a_retry_posts_no_piece_twice(tmp_path: Path) -> None:
    clock = Clock()
    text = "乡亲们好。" * 1500  # two pieces
    async with fake_dingtalk(clock=clock) as fake, running_adapter(
            fake, config_for(fake), tmp_path) as (adapter, _url, _heard):
        fake.add_robot(TOKEN, SECRET)
        fake.spend(TOKEN, 19)  # another system shares the robot
        message = OutgoingText(text)
        with pytest.raises(RetryAfter) as error:
            await adapter.send(CHAT, message)
        assert error.value.seconds == 7.0 and len(fake.rejected(130101)) == 1
        clock.now += 60
        await adapter.send(CHAT, message)
        pieces = [body["text"]["content"] for body in fake.delivered(TOKEN)]
    assert len(pieces) == 2 and "".join(pieces) == text


async def test_a_server_error_is_transient(tmp_path: Path) -> None:
    async with fake_dingtalk() as fake, running_adapter(fake, config_for(fake), tmp_path) as (
            adapter, _url, _heard):
        fake.add_robot(TOKEN, SECRET)
        fake.fail_next(502)
        with pytest.raises(AdapterError) as error:
            await adapter.send(CHAT, OutgoingText("乡亲们好"))
        assert error.value.transient
        await adapter.send(CHAT, OutgoingText("乡亲们好"))
        assert len(fake.delivered(TOKEN)) == 1


async def test_a_signed_at_message_is_dispatched_and_answered_through_its_session(
        tmp_path: Path) -> None:
    async with fake_dingtalk() as fake, running_adapter(fake, config_for(fake), tmp_path) as (
            adapter, url, heard):
        fake.add_robot(TOKEN, SECRET)
        payload = fake.at_message(CHAT, ZHANG, "建议 村口路灯坏了")
        assert await fake.callback(url, payload, app_secret=APP_SECRET) == 200
        [message] = heard
        await adapter.send(CHAT, OutgoingText("收到，第 1 号。", reply_to=message.message_id))
        await adapter.send(CHAT, OutgoingText("今晚七点半夜话。"))
    assert message == IncomingMessage(
        platform="dingtalk", chat_id=CHAT, message_id=payload["msgId"], user_id=ZHANG[0],
        user_name="张大爷", text="建议 村口路灯坏了", platform_role="member")
    assert [b["text"]["content"] for b in fake.delivered(f"session:{CHAT}")] == ["收到，第 1 号。"]
    assert [b["text"]["content"] for b in fake.delivered(TOKEN)] == ["今晚七点半夜话。"]


async def test_a_chat_without_a_robot_is_answered_only_while_its_session_lives(
        tmp_path: Path) -> None:
    async with fake_dingtalk() as fake, running_adapter(
            fake, DingTalkConfig(app_secret=APP_SECRET, api_base=fake.url), tmp_path) as (
            adapter, url, heard):
        await fake.callback(url, fake.at_message(CHAT, ZHANG, "/积分"), app_secret=APP_SECRET)
        await adapter.send(CHAT, OutgoingText("您有 2 分。"))
        # A session about to expire is not trusted with the answer.
        await fake.callback(url, fake.at_message(CHAT, ZHANG, "/积分", session_ttl_s=30),
                            app_secret=APP_SECRET)
        with pytest.raises(AdapterError) as error:
            await adapter.send(CHAT, OutgoingText("您有 2 分。"))
    assert len(heard) == 2 and "no DingTalk robot" in str(error.value)
    assert [b["text"]["content"] for b in fake.delivered(f"session:{CHAT}")] == ["您有 2 分。"]


async def test_forged_unsigned_stale_and_oversized_callbacks_are_refused(
        tmp_path: Path) -> None:
    async with fake_dingtalk() as fake, running_adapter(fake, config_for(fake), tmp_path) as (
            _adapter, url, heard):
        payload = fake.at_message(CHAT, ZHANG, "建议 村口路灯坏了")
        forged = await fake.callback(url, payload, app_secret="not-the-app-secret")
        unsigned = await fake.callback(url, payload, app_secret=APP_SECRET, headers={})
        two_hours_ago = str(int((fake.wall() - 7200) * 1000))
        stale = await fake.callback(url, payload, app_secret=APP_SECRET, timestamp=two_hours_ago)
        payload["text"]["content"] = "建议 " + "路" * 30_000
        oversized = await fake.callback(url, payload, app_secret=APP_SECRET)
        timestamp = str(int(fake.wall() * 1000))
        async with aiohttp.ClientSession() as http, http.post(
                f"{url}/dingtalk/callback", data=b"{not json", headers={
                    "timestamp": timestamp, "sign": sign(APP_SECRET, timestamp)}) as response:
            malformed = response.status
    assert (forged, unsigned, stale, oversized, malformed) == (401, 401, 403, 413, 400)
    assert heard == []


def _recorded(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((DATA / name).read_text("utf-8"))
    return data


def test_recorded_group_messages_parse_to_who_said_what_where() -> None:
    text = parse_message(_recorded("group_text.json"))
    assert text == IncomingMessage(
        platform="dingtalk", chat_id=CHAT, message_id="msgHjbQ9xPBqeM2IoJLHQZ/5w==",
        user_id="0123456789123456", user_name="张大爷", text="建议 村口路灯坏了，晚上看不见路",
        platform_role="member")
    command = parse_message(_recorded("group_command_by_admin.json"))
    assert command is not None and command.text == "/采纳 1 已列入下月计划"
    assert command.platform_role == "admin" and command.user_id == "manager7420"
    external = parse_message(_recorded("external_member.json"))
    assert external is not None and external.user_id == "$:LWCP_v1:$Zt6wP2nQ8vR4xC0mB7kLsD=="
    assert parse_message(_recorded("single_chat.json")) is None
    picture = _recorded("group_picture.json")
    parsed = parse_message(picture)  # a picture alone: no words, fetched by its downloadCode
    assert parsed is not None and parsed.text == "" and parsed.user_name == "张大爷"
    assert picture_code(picture) == picture["content"]["downloadCode"]
