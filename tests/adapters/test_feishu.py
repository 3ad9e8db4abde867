"""The Feishu adapter against the fake Feishu: signing, crypto, limits, events, parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.adapters.media import Media
from bot.adapters.robots.common import Robot
from bot.adapters.robots.feishu import (
    FeishuAdapter,
    FeishuConfig,
    check_response,
    load_config,
    sign,
)
from bot.adapters.robots.feishu_events import decrypt, image_key, parse_event
from bot.core.adapter import AdapterError, RetryAfter, StorageError
from bot.core.messages import IncomingMessage, OutgoingAudio, OutgoingText
from bot.domain.directory import GroupDirectory
from bot.settings import SettingsError
from tests.support.fakes.feishu import FakeFeishu, fake_feishu
from tests.support.feishu import CHAT, ENCRYPT_KEY, SECRET, TOKEN, VERIFICATION, ZHANG
from tests.support.robots import (
    Clock,
    serving,
)

DATA = Path(__file__).parents[1] / "data" / "feishu"


@asynccontextmanager
async def running_adapter(fake: FakeFeishu, tmp_path: Path, **fields: str
                          ) -> AsyncIterator[tuple[FeishuAdapter, str, list[IncomingMessage]]]:
    """The Feishu adapter pointed at the fake, serving its event route."""
    config = FeishuConfig(robots={CHAT: Robot(CHAT, TOKEN, fields.get("secret", SECRET))},
                          verification_token=VERIFICATION,
                          encrypt_key=fields.get("encrypt_key", ""), api_base=fake.url,
                          flood_wait=3.0)
    adapter = FeishuAdapter(config, media=Media(tmp_path, "http://bot.example.cn"))
    async with serving(adapter) as (url, heard):
        yield adapter, url, heard


def test_signing_and_decryption_match_the_published_vectors() -> None:
    assert sign("test", "1599360473") == "NVcdmaRhTlOqmXksontxmKEP4AYWAMD5VOczwSqarks="
    assert decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == b"hello world"


def test_settings_switch_feishu_on_and_name_a_bad_variable() -> None:
    assert load_config({}) is None
    config = load_config({"YEHUA_FEISHU_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}"})
    assert config is not None and config.robots == {CHAT: Robot(CHAT, TOKEN, SECRET)}
    assert config.api_base == "https://open.feishu.cn" and not config.verification_token
    events = load_config({"YEHUA_FEISHU_VERIFICATION_TOKEN": VERIFICATION,
                          "YEHUA_FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
                          "YEHUA_FEISHU_API_BASE": "https://open.larksuite.com/"})
    assert events is not None and events.encrypt_key == ENCRYPT_KEY
    assert events.api_base == "https://open.larksuite.com"
    for env, variable in [({"YEHUA_FEISHU_ROBOTS": f"{CHAT}"}, "YEHUA_FEISHU_ROBOTS"),
                          ({"YEHUA_FEISHU_ENCRYPT_KEY": ENCRYPT_KEY},
                           "YEHUA_FEISHU_VERIFICATION_TOKEN"),
                          ({"YEHUA_FEISHU_ROBOTS": f"{CHAT}:{TOKEN}",
                            "YEHUA_FEISHU_FLOOD_WAIT": "soon"}, "YEHUA_FEISHU_FLOOD_WAIT")]:
        with pytest.raises(SettingsError) as error:
            load_config(env)
        assert error.value.variable == variable


async def test_a_signed_text_mentioning_the_author_and_an_audio_link_reach_the_bot(
        tmp_path: Path) -> None:
    async with fake_feishu() as fake, running_adapter(fake, tmp_path) as (adapter, _, _heard):
        fake.add_bot(TOKEN, SECRET)
        await adapter.send(CHAT, OutgoingText("第 1 号建议已采纳。", mention=ZHANG))
        await adapter.send(CHAT, OutgoingAudio(tmp_path / "0a1b2c3d4e5f60718293.mp3", 42.0,
                                               caption="村规民约"))
        text, audio = fake.delivered(TOKEN)
    assert text["msg_type"] == "text"
    assert text["content"]["text"] == f'<at user_id="{ZHANG}"></at> 第 1 号建议已采纳。'
    post = audio["content"]["post"]["zh_cn"]
    assert post["title"] == "村规民约"
    assert post["content"] == [[{"tag": "a", "text": "▶ 点这里听语音（42秒）",
                                 "href": "http://bot.example.cn/media/0a1b2c3d4e5f60718293.mp3"}]]


async def test_a_wrong_secret_is_refused_by_feishu_and_not_worth_retrying(
        tmp_path: Path) -> None:
    async with fake_feishu() as fake, running_adapter(fake, tmp_path, secret="guess") as (
            adapter, _url, _heard):
        fake.add_bot(TOKEN, SECRET)
        with pytest.raises(AdapterError) as error:
            await adapter.send(CHAT, OutgoingText("乡亲们好"))
    assert "19021" in str(error.value) and not error.value.transient
    assert not isinstance(error.value, RetryAfter) and not fake.delivered(TOKEN)


async def test_a_long_text_fits_the_20_kb_body_in_pieces(tmp_path: Path) -> None:
    text = "\n".join(f"第{i}条：村里的垃圾要分类投放，可回收的放蓝桶" for i in range(1, 400))
    async with fake_feishu() as fake, running_adapter(fake, tmp_path) as (adapter, _, _heard):
        fake.add_bot(TOKEN, SECRET)
        await adapter.send(CHAT, OutgoingText(text))
        pieces = [body["content"]["text"] for body in fake.delivered(TOKEN)]
    assert len(pieces) == 2 and all(s.ok for s in fake.sent)
    assert pieces[0].endswith("蓝桶") and "\n".join(pieces) == text  # cut at a line end


async def test_five_a_second_is_the_limit_and_a_retry_posts_no_piece_twice(
        tmp_path: Path) -> None:
    clock = Clock()
    text = "乡亲们好。" * 2000  # two pieces
    async with fake_feishu(clock=clock) as fake, running_adapter(fake, tmp_path) as (
            adapter, _url, _heard):
        fake.add_bot(TOKEN, SECRET)
        fake.spend(TOKEN, 4)
        with pytest.raises(RetryAfter) as error:
            await adapter.send(CHAT, OutgoingText(text))
        assert error.value.seconds == 3.0 and len(fake.rejected(11232)) == 1
        clock.now += 1
        await adapter.send(CHAT, OutgoingText(text))
        assert "".join(b["content"]["text"] for b in fake.delivered(TOKEN)) == text


def test_only_frequency_answers_ask_to_wait() -> None:
    for answer in [{"code": 11232, "msg": "frequency limited psm[x]appID[1]"},
                   {"code": 9499, "msg": "too many request"}]:
        with pytest.raises(RetryAfter):
            check_response(200, answer, flood_wait=60.0)
    for answer in [{"code": 9499, "msg": "Bad Request"}, {"code": 19024, "msg": "Key Words "
                                                                                "Not Found"}]:
        with pytest.raises(AdapterError) as error:
            check_response(200, answer, flood_wait=60.0)
        assert not isinstance(error.value, RetryAfter) and not error.value.transient
    check_response(200, {"StatusCode": 0, "StatusMessage": "success"}, flood_wait=60.0)


async def test_events_are_verified_decrypted_dispatched_once(tmp_path: Path) -> None:
    async with fake_feishu() as fake, running_adapter(fake, tmp_path, encrypt_key=ENCRYPT_KEY
                                                      ) as (_adapter, url, heard):
        challenge = {"challenge": "ajls384kdjx98XX", "token": VERIFICATION,
                     "type": "url_verification"}
        assert await fake.post_event(url, challenge, encrypt_key=ENCRYPT_KEY) == (
            200, {"challenge": "ajls384kdjx98XX"})
        challenge["token"] = "guess"
        forged_challenge = await fake.post_event(url, challenge, encrypt_key=ENCRYPT_KEY)
        event = fake.message_event(CHAT, ZHANG, "建议 修一修水渠", token=VERIFICATION)
        first = await fake.post_event(url, event, encrypt_key=ENCRYPT_KEY)
        again = await fake.post_event(url, event, encrypt_key=ENCRYPT_KEY)
        old_schema = {"uuid": "41b5f371157e3d5341b38b20396e77a3", "token": VERIFICATION,
                      "ts": "1766994600.1", "type": "event_callback",
                      "event": {"type": "message", "text": "建议 旧格式"}}
        older = await fake.post_event(url, old_schema, encrypt_key=ENCRYPT_KEY)
    assert forged_challenge[0] == 401
    assert first[0] == again[0] == older[0] == 200
    [message] = heard
    assert message.text == "建议 修一修水渠" and message.user_id == ZHANG
    assert message.chat_id == CHAT and message.user_name == "飞书用户467a"


async def test_forged_stale_or_unencrypted_events_are_refused(tmp_path: Path) -> None:
    async with fake_feishu() as fake, running_adapter(fake, tmp_path, encrypt_key=ENCRYPT_KEY
                                                      ) as (_adapter, url, heard):
        event = fake.message_event(CHAT, ZHANG, "建议 修一修水渠", token=VERIFICATION)
        forged = await fake.post_event(url, event, encrypt_key=ENCRYPT_KEY, sign_with="guess")
        wrong_key = await fake.post_event(url, event, encrypt_key="another-apps-key")
        plain = await fake.post_event(url, event)
        stale = await fake.post_event(url, event, encrypt_key=ENCRYPT_KEY,
                                      timestamp=str(int(fake.wall()) - 7200))
        bad_token = fake.message_event(CHAT, ZHANG, "建议 修一修水渠", token="guess")
        token = await fake.post_event(url, bad_token, encrypt_key=ENCRYPT_KEY)
    assert [s for s, _ in (forged, wrong_key, plain, stale, token)] == [401, 401, 401, 403, 401]
    assert heard == []


def _recorded(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((DATA / name).read_text("utf-8"))
    return data


def test_recorded_events_parse_to_who_said_what_where() -> None:
    assert parse_event(_recorded("receive_text_group.json")) == IncomingMessage(
        platform="feishu", chat_id=CHAT, message_id="om_5ce6d572455d361153b7cb51da133945",
        user_id=ZHANG, user_name="飞书用户467a", text="建议 修一修枫树屋场的水渠")
    reply = parse_event(_recorded("receive_reply_with_mention.json"))
    assert reply is not None and reply.text == "/代提 @张大爷 水渠边的护栏松了"
    assert reply.reply_to == "om_0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    image = _recorded("receive_image_group.json")
    picture = parse_event(image)  # a picture alone: no words, fetched by its image_key
    assert picture is not None and picture.text == "" and picture.user_id == ZHANG
    assert image_key(image) == "img_v3_02ab_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg"
    assert parse_event(_recorded("receive_text_p2p.json")) is None
    assert parse_event(_recorded("url_verification.json")) is None


async def test_an_event_taken_by_one_instance_is_refused_by_another_unless_it_was_not_stored(
        tmp_path: Path, engine: Engine) -> None:
    config = FeishuConfig(robots={CHAT: Robot(CHAT, TOKEN, SECRET)},
                          verification_token=VERIFICATION, encrypt_key=ENCRYPT_KEY)
    media = Media(tmp_path, "http://bot.example.cn")
    first, second = (FeishuAdapter(config, directory=GroupDirectory(engine), media=media)
                     for _ in range(2))
    async with fake_feishu() as fake, serving(first) as (url_a, heard_a), \
            serving(second) as (url_b, heard_b):
        taken = fake.message_event(CHAT, ZHANG, "建议 修一修水渠", token=VERIFICATION)
        assert (await fake.post_event(url_a, taken, encrypt_key=ENCRYPT_KEY))[0] == 200
        replayed = await fake.post_event(url_b, taken, encrypt_key=ENCRYPT_KEY)

        async def full(_message: IncomingMessage) -> None:
            raise StorageError("database or disk is full")

        first.on_event = full
        refused = fake.message_event(CHAT, ZHANG, "建议 路灯修好", token=VERIFICATION)
        not_stored = await fake.post_event(url_a, refused, encrypt_key=ENCRYPT_KEY)
        retried = await fake.post_event(url_b, refused, encrypt_key=ENCRYPT_KEY)
    assert replayed[0] == 200 and not_stored[0] == 503 and retried[0] == 200
    assert [m.text for m in heard_a] == ["建议 修一修水渠"]
    assert [m.text for m in heard_b] == ["建议 路灯修好"]
