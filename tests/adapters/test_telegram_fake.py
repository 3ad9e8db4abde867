"""The fake Bot API answers as Telegram documents it, so tests and benchmarks can trust it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.fakes.telegram import FakeTelegram, start_fake_telegram
from tests.support.polling import eventually
from tests.support.recordings import recording

ROOT = Path(__file__).resolve().parents[2]
GROUP = -1001234567890


async def call(http: aiohttp.ClientSession, fake: FakeTelegram, method: str, *,
               token: str | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    url = f"{fake.url}/bot{token or fake.token}/{method}"
    async with http.post(url, **kwargs) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


async def test_the_fake_takes_every_parameter_encoding_and_any_method_case() -> None:
    async with start_fake_telegram(time_scale=0.01) as fake, aiohttp.ClientSession() as http:
        for method, kwargs in (("sendMessage", {"json": {"chat_id": GROUP, "text": "一"}}),
                               ("SENDMESSAGE", {"data": {"chat_id": "-1001234567891",
                                                         "text": "二"}}),
                               ("sendmessage", {"params": {"chat_id": "-1001234567892",
                                                           "text": "三"}})):
            status, body = await call(http, fake, method, **kwargs)
            assert status == 200 and body["ok"] and body["result"]["message_id"] == 1
        assert [s.text for s in fake.sent] == ["一", "二", "三"]


async def test_the_fake_refuses_wrong_tokens_long_texts_and_voice_that_is_not_opus() -> None:
    async with start_fake_telegram(time_scale=0.01) as fake, aiohttp.ClientSession() as http:
        status, body = await call(http, fake, "getMe", token="1:wrong")
        assert (status, body["description"]) == (401, "Unauthorized")
        status, body = await call(http, fake, "sendMessage",
                                  json={"chat_id": GROUP, "text": "长" * 4097})
        assert (status, body["description"]) == (400, "Bad Request: message is too long")
        form = aiohttp.FormData({"chat_id": str(GROUP)})
        form.add_field("voice", recording(1.0, container="webm"), filename="v.webm")
        status, body = await call(http, fake, "sendVoice", data=form)
        assert status == 400 and "OGG/Opus" in body["description"]
        form = aiohttp.FormData({"chat_id": str(GROUP), "duration": "2"})
        form.add_field("voice", recording(2.0, container="ogg"), filename="v.ogg")
        status, body = await call(http, fake, "sendVoice", data=form)
        assert status == 200 and 1.9 < fake.sent[0].seconds < 2.1
        assert fake.sent[0].kind == "voice" and fake.sent[0].duration == 2


async def test_the_fake_answers_429_with_retry_after_past_one_message_a_second() -> None:
    async with start_fake_telegram() as fake, aiohttp.ClientSession() as http:
        assert (await call(http, fake, "sendMessage",
                           json={"chat_id": GROUP, "text": "一"}))[0] == 200
        status, body = await call(http, fake, "sendMessage", json={"chat_id": GROUP, "text": "二"})
        assert status == 429 and body["parameters"] == {"retry_after": 1}
        assert re.fullmatch(r"Too Many Requests: retry after \d+", body["description"])
        for n in range(29):  # other chats, up to 30 in a second overall
            assert (await call(http, fake, "sendMessage",
                               json={"chat_id": -100 - n, "text": "好"}))[0] == 200
        status, _ = await call(http, fake, "sendMessage", json={"chat_id": -99, "text": "好"})
        assert status == 429 and fake.floods == 2 and len(fake.sent) == 30


async def test_get_updates_forgets_confirmed_updates_and_long_polls_for_new_ones() -> None:
    user = {"id": 42, "first_name": "张"}
    async with start_fake_telegram() as fake, aiohttp.ClientSession() as http:
        first = fake.say(GROUP, user, "一")
        _, body = await call(http, fake, "getUpdates", json={"timeout": 0})
        assert [u["update_id"] for u in body["result"]] == [first["update_id"]]
        waiting = asyncio.create_task(call(http, fake, "getUpdates", json={
            "offset": first["update_id"] + 1, "timeout": 10}))
        await eventually(lambda: len(fake.offsets) == 2)
        assert not waiting.done(), "the poll waits on the server while nothing is new"
        second = fake.say(GROUP, user, "二")
        _, body = await waiting
        assert [u["message"]["text"] for u in body["result"]] == ["二"]
        assert fake.updates == [second], "the confirmed update is forgotten"


def test_every_telegram_setting_is_documented_in_env_example() -> None:
    source = (ROOT / "bot" / "adapters" / "telegram" / "config.py").read_text("utf-8")
    documented = (ROOT / ".env.example").read_text("utf-8")
    names = set(re.findall(r'"(YEHUA_TELEGRAM_[A-Z_]+)"', source))
    assert len(names) == 6
    assert all(f"\n{name}=" in documented for name in names)
