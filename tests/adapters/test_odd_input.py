"""Bodies no platform would send: deep nesting and numbers past a float get 400 everywhere,
nothing is stored, and control characters never reach what is stored or exported."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import ChatMessage, Member, Suggestion
from bot.reports import ReportFilter, write_csv
from bot.settings import Settings
from tests.support import builders
from tests.support.app import RunningApp, running
from tests.support.dingtalk import APP_SECRET, CHAT, SECRET, TOKEN
from tests.support.fakes.dingtalk import fake_dingtalk, signature
from tests.support.fakes.onebot import FakeNapCat
from tests.support.fakes.telegram import start_fake_telegram
from tests.support.fakes.wecom import start_fake_wecom
from tests.support.fakes.wecom_callback import WeComCallbackClient
from tests.support.loopback import free_port
from tests.support.onebot import GROUP, ZHANG, prepare_qq_groups, said, stored, with_onebot
from tests.support.polling import eventually
from tests.support.robots import add_group
from tests.support.telegram import FAST, VILLAGE, groups, on_telegram

NESTED = b"[" * 60_000  # Python's JSON parser recurses once per level
WAIT = 10


def suggestions(bot: RunningApp) -> list[Suggestion]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


def with_number(payload: dict[str, Any], raw: str) -> bytes:
    """`payload` as JSON with its "NUMBER" placeholder written as the literal `raw`."""
    return json.dumps(payload, ensure_ascii=False).replace('"NUMBER"', raw).encode()


async def test_onebot_http_answers_400_to_nesting_and_numbers_past_a_float(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        event = napcat.group_message(GROUP, ZHANG, said(" 建议 村口修个亭子", at_bot=True))
        bodies = [NESTED, with_number({**event, "message_id": "NUMBER"}, "1e400"),
                  with_number({**event, "message_id": "NUMBER"}, "NaN"),
                  with_number({**event, "time": "NUMBER"}, "-Infinity")]
        statuses = [(await napcat.post_event(bot.url, {}, body=body))[0] for body in bodies]
        good = napcat.group_message(GROUP, ZHANG, said(" 建议 修桥", at_bot=True))
        assert (await napcat.post_event(bot.url, good))[0] == 204
        texts = [s.text for s in stored(bot.app)]
    assert statuses == [400, 400, 400, 400]
    assert texts == ["修桥"]  # no suggestion numbered "inf"


async def test_onebot_http_reads_numbers_past_64_bits_and_lone_surrogates_exactly(
        settings: Settings, napcat: FakeNapCat) -> None:
    # Legal JSON, though no platform sends it: read as Python's own reader reads it (the
    # exact integer, not a float; an escaped lone surrogate kept out of what is stored).
    long_id = "1234567890123456789012345"
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        event = napcat.group_message(GROUP, ZHANG, said(" 建议 村口修个亭子", at_bot=True))
        body = with_number({**event, "message_id": "NUMBER"}, long_id)
        lone = json.dumps(napcat.group_message(GROUP, ZHANG, said(" 建议 修桥", at_bot=True)),
                          ensure_ascii=False).replace("修桥", "修桥\\ud800").encode()
        statuses = [(await napcat.post_event(bot.url, {}, body=b))[0] for b in (body, lone)]
        rows = suggestions(bot)
    assert statuses == [204, 204]
    assert [row.message_id for row in rows][:1] == [long_id]
    assert [row.text for row in rows] == ["村口修个亭子", "修桥"]


async def test_onebot_reverse_websocket_drops_such_frames_and_stays_up(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot, \
            napcat.reverse_ws(bot.url) as client:
        event = napcat.group_message(GROUP, ZHANG, said(" 建议 村口修个亭子", at_bot=True))
        await client.ws.send_str(NESTED.decode())
        await client.ws.send_str(with_number({**event, "message_id": "NUMBER"}, "1e400")
                                 .decode())
        await client.send_event(napcat.group_message(GROUP, ZHANG, said(" 建议 修桥",
                                                                         at_bot=True)))
        await eventually(lambda: stored(bot.app), WAIT)
        assert not client.ws.closed
        texts = [s.text for s in stored(bot.app)]
    assert texts == ["修桥"]


@asynccontextmanager
async def running_at_its_url(settings: Settings, prepare: Any) -> AsyncIterator[RunningApp]:
    """The app on the port its YEHUA_PUBLIC_URL names, so Telegram's webhook can reach it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with running(replace(settings, port=port, public_url=url), prepare, port=port) as bot:
        yield bot


async def test_the_telegram_webhook_answers_400_to_nesting_and_numbers_past_a_float(
        settings: Settings) -> None:
    secret = "village-webhook-secret_2026"
    async with start_fake_telegram(time_scale=FAST, https_webhooks_only=False) as fake, \
            running_at_its_url(on_telegram(settings, fake,
                                           YEHUA_TELEGRAM_WEBHOOK_SECRET=secret),
                               groups()) as bot:
        await eventually(lambda: fake.webhook)
        update = {"update_id": 9001, "message": {
            "message_id": "NUMBER", "date": int(time.time()), "text": "建议 修桥",
            "chat": {"id": VILLAGE, "type": "supergroup", "title": "村民群"},
            "from": {"id": 5123456789, "is_bot": False, "first_name": "张大爷"}}}
        statuses = []
        async with aiohttp.ClientSession() as http:
            for body in (NESTED, with_number(update, "1e400"), with_number(update, "NaN")):
                async with http.post(f"{bot.url}/telegram/webhook", data=body, headers={
                        "X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                    statuses.append(response.status)
        assert suggestions(bot) == []
    assert statuses == [400, 400, 400]


async def test_feishu_events_answer_400_to_nesting_even_without_credentials(
        settings: Settings) -> None:
    feishu = replace(settings, extra={"YEHUA_FEISHU_VERIFICATION_TOKEN": "v3rificati0n"})
    header = {"schema": "2.0", "header": {"event_id": "e1", "create_time": "NUMBER",
                                          "event_type": "im.message.receive_v1"}}
    async with running(feishu) as bot, aiohttp.ClientSession() as http:
        statuses = []
        for body in (NESTED, with_number(header, "1e400"), with_number(header, "Infinity")):
            async with http.post(f"{bot.url}/feishu/events", data=body) as response:
                statuses.append(response.status)
    assert statuses == [400, 400, 400]


async def test_dingtalk_answers_400_to_a_signed_callback_with_such_a_body(
        settings: Settings) -> None:
    async with fake_dingtalk() as fake, running(replace(settings, extra={
            "YEHUA_DINGTALK_ROBOTS": f"{CHAT}:{TOKEN}:{SECRET}",
            "YEHUA_DINGTALK_APP_SECRET": APP_SECRET, "YEHUA_DINGTALK_API_BASE": fake.url}),
            lambda app: add_group(app, "dingtalk", CHAT, ("manager7420", "王书记"))) as bot:
        message = fake.at_message(CHAT, ("0123456789123456", "张大爷"), "建议 修桥")
        statuses = []
        async with aiohttp.ClientSession() as http:
            for n, body in enumerate((NESTED, with_number({**message, "createAt": "NUMBER"},
                                                          "1e400"))):
                stamp = str(int(time.time() * 1000) + n)
                async with http.post(f"{bot.url}/dingtalk/callback", data=body, headers={
                        "timestamp": stamp, "sign": signature(APP_SECRET, stamp)}) as response:
                    statuses.append(response.status)
        assert suggestions(bot) == [] and fake.sent == []
    assert statuses == [400, 400]


async def test_wecom_answers_400_to_such_an_envelope_or_such_a_message_inside_it(
        settings: Settings) -> None:
    key, token = "8a2f6c1e-fengshu", "Yehua2026Token"
    aes = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    async with start_fake_wecom([key]) as fake, running(replace(settings, extra={
            "YEHUA_WECOM_ROBOTS": f"wrkSFfCgAAfengshu:{key}", "YEHUA_WECOM_API_BASE": fake.url,
            "YEHUA_WECOM_TOKEN": token, "YEHUA_WECOM_AES_KEY": aes})) as bot:
        wecom = WeComCallbackClient(f"{bot.url}/wecom/callback", token, aes)
        # The envelope is read before the signature can be checked: no credentials needed.
        unsigned = {"msg_signature": "0" * 40, "nonce": "1", "timestamp": str(int(time.time()))}
        async with aiohttp.ClientSession() as http, http.post(
                wecom.url, params=unsigned, data=b'{"encrypt": ' + NESTED[:50_000]) as response:
            statuses = [response.status]
        statuses += [
            (await wecom.post(NESTED[:40_000]))[0],
            (await wecom.post(with_number({"msgid": "NUMBER"}, "1e400")))[0],
        ]
        assert suggestions(bot) == []
    assert statuses == [400, 400, 400]


def web_room(app: web.Application) -> None:
    builders.add_group(app[ENGINE], "枫树村大群", chat_id="demo")


async def test_the_web_chat_answers_such_frames_with_an_error_and_keeps_the_socket(
        settings: Settings) -> None:
    async with running(settings, web_room) as bot, aiohttp.ClientSession() as http, \
            http.ws_connect(f"{bot.url}/ws/demo") as ws:
        await ws.send_json({"type": "hello", "user_id": "villager-0001", "name": "张大爷"})
        assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
        replies = []
        for frame in (NESTED.decode(), '{"type": "post", "text": "修桥", "n": 1e400}',
                      '{"type": "post", "text": NaN}'):
            await ws.send_str(frame)
            replies.append((await ws.receive_json(timeout=WAIT))["type"])
        await ws.send_json({"type": "post", "text": "建议 修桥"})
        shown = await ws.receive_json(timeout=WAIT)
    assert replies == ["error", "error", "error"]
    assert shown["type"] == "message" and shown["message"]["text"] == "建议 修桥"


async def test_control_characters_never_reach_what_is_stored_or_exported(
        settings: Settings, napcat: FakeNapCat, tmp_path: Path) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        event = napcat.group_message(
            GROUP, ZHANG, said(" 建议 村口\x1b[2J路灯\x00坏了\r\n快修\u202e", at_bot=True),
            card="张\x07大爷\u202e")
        assert (await napcat.post_event(bot.url, event))[0] == 204
        [suggestion] = suggestions(bot)
        with session(bot.app[ENGINE]) as db:
            names = [m.display_name for m in db.exec(select(Member))]
        today = datetime.now().date()
        report = write_csv(bot.app[ENGINE], ReportFilter(date(today.year, 1, 1),
                                                         date(today.year, 12, 31)),
                           tmp_path / "report.csv")
    assert suggestion.text == "村口[2J路灯坏了\n快修"
    assert suggestion.author_name == "张大爷" and "张大爷" in names
    exported = report.read_text(encoding="utf-8-sig")
    assert "村口[2J路灯坏了\n快修" in exported
    assert not any(ch in exported for ch in "\x00\x07\x1b\r\u202e")


async def test_a_web_name_and_text_lose_their_control_characters(settings: Settings) -> None:
    async with running(settings, web_room) as bot, aiohttp.ClientSession() as http, \
            http.ws_connect(f"{bot.url}/ws/demo") as ws:
        await ws.send_json({"type": "hello", "user_id": "villager-0003",
                            "name": "王\x07五\u2066"})
        ready = await ws.receive_json(timeout=WAIT)
        await ws.send_json({"type": "post", "text": "晚上\x07好\x1b"})
        shown = await ws.receive_json(timeout=WAIT)
        with session(bot.app[ENGINE]) as db:
            stored_texts = [m.text for m in db.exec(select(ChatMessage))]
    assert ready["name"] == "王五"
    assert shown["message"]["text"] == "晚上好" and "晚上好" in stored_texts
