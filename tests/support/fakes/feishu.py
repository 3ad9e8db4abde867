"""A fake Feishu: custom-bot webhooks, an event sender posting messages to the bot, and the
app's side of fetching a message's picture (tenant_access_token, the message resource API)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.support.fakes.dingtalk import FakeRobot, RobotFake
from tests.support.loopback import serve

# As Feishu documents them: HTTP 200 always, errors 19021/19024/11232, 5/s and 100/min per bot,
# 20 KB bodies; im.message.receive_v1 events plain or encrypted, signed or forged.

MAX_BODY = 20 * 1024
PER_SECOND, PER_MINUTE = 5, 100
SIGN_WINDOW_S = 3600
BAD_SIGN = {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from "
                                  "current time", "data": {}}
NO_KEYWORD = {"code": 19024, "msg": "Key Words Not Found", "data": {}}
NO_MSG_TYPE = {"code": 19002, "msg": "params error, msg_type need", "data": {}}
BAD_REQUEST = {"code": 9499, "msg": "Bad Request", "data": {}}
NO_TOKEN = {"code": 19001, "msg": "param invalid: incoming webhook access token invalid",
            "data": {}}
TOO_OFTEN = {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]"
                                   "appID[1]", "data": {}}
APP_ID, APP_SECRET = "cli_a1b2c3d4e5f6a7b8", "appSecretForYehuaTests0123"
BAD_APP = {"code": 10014, "msg": "app secret invalid"}
NO_TOKEN_APP = {"code": 99991661, "msg": "Missing access token for authorization."}
NO_RESOURCE = {"code": 234003, "msg": "File not in msg."}
OK = {"code": 0, "msg": "success", "data": {}, "StatusCode": 0, "StatusMessage": "success"}


@dataclass
class FakeFeishu(RobotFake):
    """Custom bots at `url`; `second` and `minute` are how long its two windows last."""

    second: float = 1.0
    minute: float = 60.0
    bots: dict[str, FakeRobot] = field(default_factory=dict)
    images: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (message, key) -> file
    tenant_tokens: set[str] = field(default_factory=set)
    fetched: list[tuple[str, str]] = field(default_factory=list)  # (message id, image key)

    def picture_event(self, chat_id: str, open_id: str, data: bytes, text: str = "", *,
                      token: str) -> dict[str, Any]:
        """A member sends a picture: an `image` message, or with words a `post` (rich text)
        with an @ of the bot, the words and the picture."""
        event = self.message_event(chat_id, open_id, text, token=token)
        message = event["event"]["message"]
        key = f"img_v3_{secrets.token_hex(12)}"
        self.images[(message["message_id"], key)] = data
        if text:
            message["message_type"] = "post"
            message["content"] = json.dumps({"title": "", "content": [[
                {"tag": "at", "user_id": "@_user_1", "user_name": "夜话小助手"},
                {"tag": "text", "text": f" {text}"}], [
                {"tag": "img", "image_key": key, "width": 800, "height": 600}]]},
                ensure_ascii=False)
        else:
            message["message_type"], message["mentions"] = "image", []
            message["content"] = json.dumps({"image_key": key})
        return event

    async def tenant_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("app_id") != APP_ID or body.get("app_secret") != APP_SECRET:
            return web.json_response(BAD_APP)
        token = f"t-{secrets.token_hex(16)}"
        self.tenant_tokens.add(token)
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token,
                                  "expire": 7200})

    async def resource(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if given not in self.tenant_tokens:
            return web.json_response(NO_TOKEN_APP, status=400)
        wanted = (request.match_info["message_id"], request.match_info["file_key"])
        self.fetched.append(wanted)
        if request.query.get("type") != "image" or wanted not in self.images:
            return web.json_response(NO_RESOURCE, status=400)
        return web.Response(body=self.images[wanted], content_type="image/jpeg")

    def add_bot(self, token: str, secret: str = "", keywords: Iterable[str] = ()) -> None:
        self.bots[token] = FakeRobot(secret, tuple(keywords))

    def spend(self, token: str, n: int) -> None:
        """Someone else sharing the bot has just sent `n` messages."""
        self.window.count(token, [self.second, self.minute], n)

    async def hook(self, request: web.Request) -> web.Response:
        if self.failures:
            return web.Response(status=self.failures.popleft(), text="upstream error")
        token, raw = request.match_info["token"], await request.read()
        if len(raw) > MAX_BODY:
            return self._answer(token, None, BAD_REQUEST)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._answer(token, None, BAD_REQUEST)
        bot = self.bots.get(token)
        if bot is None or not isinstance(body, dict):
            return self._answer(token, body, NO_TOKEN if bot is None else BAD_REQUEST)
        if bot.secret:
            timestamp = str(body.get("timestamp", ""))
            if not timestamp.isdigit() or abs(self.wall() - int(timestamp)) > SIGN_WINDOW_S \
                    or body.get("sign") != signature(bot.secret, timestamp):
                return self._answer(token, body, BAD_SIGN)
        problem = _content_problem(body)
        if problem is not None:
            return self._answer(token, body, problem)
        if bot.keywords and not any(k in json.dumps(body["content"], ensure_ascii=False)
                                    for k in bot.keywords):
            return self._answer(token, body, NO_KEYWORD)
        if self.window.full(token, PER_SECOND, self.second) \
                or self.window.full(token, PER_MINUTE, self.minute):
            return self._answer(token, body, TOO_OFTEN)
        self.window.count(token, [self.second, self.minute])
        return self._answer(token, body, OK)

    def message_event(self, chat_id: str, open_id: str, text: str, *, token: str,
                      mentions: Sequence[tuple[str, str]] = (("@_user_1", "夜话小助手"),),
                      event_id: str | None = None, chat_type: str = "group"
                      ) -> dict[str, Any]:
        """The v2 im.message.receive_v1 event for `text` said by `open_id` in a chat."""
        keys = [{"key": key, "name": name, "tenant_key": "736588c9260f175d",
                 "id": {"open_id": f"ou_{secrets.token_hex(16)}", "union_id": "on_b0t",
                        "user_id": None}} for key, name in mentions]
        said = " ".join([*(key for key, _name in mentions), text])
        now_ms = str(int(self.wall() * 1000))
        return {
            "schema": "2.0",
            "header": {"event_id": event_id or secrets.token_hex(16), "token": token,
                       "create_time": now_ms, "event_type": "im.message.receive_v1",
                       "tenant_key": "736588c9260f175d", "app_id": "cli_a1b2c3d4e5f6a7b8"},
            "event": {
                "sender": {"sender_id": {"open_id": open_id, "union_id": f"on_{open_id[3:]}",
                                         "user_id": None},
                           "sender_type": "user", "tenant_key": "736588c9260f175d"},
                "message": {"message_id": f"om_{secrets.token_hex(16)}", "root_id": "",
                            "parent_id": "", "create_time": now_ms, "update_time": now_ms,
                            "chat_id": chat_id, "chat_type": chat_type,
                            "message_type": "text",
                            "content": json.dumps({"text": said}, ensure_ascii=False),
                            "mentions": keys, "user_agent": "Mozilla/5.0 Lark/7.20.8"}},
        }

    async def post_event(self, bot_url: str, event: dict[str, Any], *,
                         encrypt_key: str | None = None, sign_with: str | None = None,
                         timestamp: str | None = None) -> tuple[int, Any]:
        """POST an event as Feishu does: encrypted and signed when an Encrypt Key is given
        (`sign_with` forges the signature with another key); the status and the answer."""
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if encrypt_key is not None:
            body = json.dumps({"encrypt": encrypt(encrypt_key, body)}).encode()
            timestamp = timestamp or str(int(self.wall()))
            nonce = secrets.token_hex(8)
            key = encrypt_key if sign_with is None else sign_with
            headers |= {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                        "X-Lark-Signature": hashlib.sha256(
                            (timestamp + nonce + key).encode() + body).hexdigest()}
        async with aiohttp.ClientSession() as http, \
                http.post(f"{bot_url}/feishu/events", data=body, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text


def signature(secret: str, timestamp: str) -> str:
    """Feishu's custom-bot sign, computed here independently of the bot."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def encrypt(encrypt_key: str, plain: bytes) -> str:
    """What Feishu puts in `encrypt`: base64(IV + AES-256-CBC(sha256(key), PKCS7(plain)))."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    cipher = Cipher(algorithms.AES(hashlib.sha256(encrypt_key.encode()).digest()), modes.CBC(iv))
    encryptor = cipher.encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def _content_problem(body: dict[str, Any]) -> dict[str, Any] | None:
    kind, content = body.get("msg_type"), body.get("content")
    if not kind:
        return NO_MSG_TYPE
    if kind == "text":
        good = isinstance(content, dict) and isinstance(content.get("text"), str) \
            and bool(content["text"])
    elif kind == "post":
        post = content.get("post") if isinstance(content, dict) else None
        good = isinstance(post, dict) and any(
            isinstance(lang, dict) and isinstance(lang.get("content"), list)
            for lang in post.values())
    else:
        good = kind in {"image", "share_chat", "interactive"}
    return None if good else BAD_REQUEST


@asynccontextmanager
async def fake_feishu(**options: Any) -> AsyncIterator[FakeFeishu]:
    """Run a fake Feishu for the block."""
    fake = FakeFeishu(**options)
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/open-apis/bot/v2/hook/{token}", fake.hook)
    app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", fake.tenant_token)
    app.router.add_get("/open-apis/im/v1/messages/{message_id}/resources/{file_key}",
                       fake.resource)
    async with serve(app) as url:
        fake.url = url
        yield fake
