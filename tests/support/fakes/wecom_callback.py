"""WeCom's side of the callback: members' messages, encrypted and signed (or forged)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# The WXBizMsgCrypt here is written independently of the bot's, so a shared mistake cannot hide.


@dataclass
class CallbackSent:
    """One request the callback client made, and the bot's answer."""

    method: str
    query: dict[str, str]
    body: bytes
    status: int
    answer: str


@dataclass
class WeComCallbackClient:
    """Plays WeCom posting members' messages to the bot's callback URL, encrypted and signed
    by its own WXBizMsgCrypt implementation (independent of the bot's)."""

    url: str
    token: str
    aes_key: str
    receive_id: str = ""
    sent: list[CallbackSent] = field(default_factory=list)

    def seal(self, message: bytes, *, receive_id: str | None = None, aes_key: str | None = None
             ) -> str:
        key = base64.b64decode((aes_key or self.aes_key) + "=")
        receiver = (self.receive_id if receive_id is None else receive_id).encode()
        plain = os.urandom(16) + struct.pack(">I", len(message)) + message + receiver
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def sign(self, timestamp: str, nonce: str, encrypt: str, token: str | None = None) -> str:
        parts = sorted((token or self.token, timestamp, nonce, encrypt))
        return hashlib.sha1("".join(parts).encode()).hexdigest()

    def _query(self, encrypt: str, forge: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        if forge == "stale":  # signed rightly, but in 2001
            timestamp = "1000000000"
        if forge == "unsigned":
            return {"timestamp": timestamp, "nonce": nonce}
        token = "WrongToken" if forge == "bad_signature" else None
        return {"msg_signature": self.sign(timestamp, nonce, encrypt, token),
                "timestamp": timestamp, "nonce": nonce}

    async def _request(self, method: str, query: dict[str, str], body: bytes = b"",
                       content_type: str = "application/json") -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.request(
                method, self.url, params=query, data=body or None,
                headers={"Content-Type": content_type} if body else None) as response:
            answer = await response.text()
        self.sent.append(CallbackSent(method, query, body, response.status, answer))
        return response.status, answer

    async def verify_url(self, echo: str, *, forge: str = "") -> tuple[int, str]:
        """WeCom's GET when an admin saves the callback URL; the bot must answer `echo`."""
        echostr = self.seal(echo.encode())
        return await self._request("GET", {**self._query(echostr, forge), "echostr": echostr})

    async def post(self, plain: bytes, *, xml: bool = False, forge: str = "") -> tuple[int, str]:
        """POST one message; forge: "unsigned", "bad_signature", "wrong_key", "wrong_receiver",
        "stale"."""
        wrong_key = base64.b64encode(b"k" * 32).decode()[:43] if forge == "wrong_key" else None
        receiver = "wx-someone-else" if forge == "wrong_receiver" else None
        encrypt = self.seal(plain, receive_id=receiver, aes_key=wrong_key)
        if xml:
            body = (f"<xml><ToUserName><![CDATA[{self.receive_id}]]></ToUserName><Encrypt>"
                    f"<![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID>"
                    "</xml>").encode()
            return await self._request("POST", self._query(encrypt, forge), body, "text/xml")
        body = json.dumps({"encrypt": encrypt}).encode()
        return await self._request("POST", self._query(encrypt, forge), body)

    async def show(self, chat_id: str, user_id: str, text: str, url: str) -> tuple[int, str]:
        """A member @-mentions the smart robot with `text` and a picture hosted at `url`."""
        return await self.post(json.dumps(robot_picture(chat_id, user_id, text, url),
                                          ensure_ascii=False).encode())

    async def say(self, chat_id: str, user_id: str, text: str, *, msgid: str | None = None,
                  forge: str = "") -> tuple[int, str]:
        """A member @-mentions the smart robot in a group chat with `text`."""
        return await self.post(json.dumps(robot_text(chat_id, user_id, text, msgid=msgid),
                                          ensure_ascii=False).encode(), forge=forge)


def seal_media(data: bytes, aes_key: str) -> bytes:
    """A media file as a smart robot's message links to it: AES-256-CBC with the callback's
    key, IV its first 16 bytes, PKCS#7 padding to 32 bytes (no random prefix, no length)."""
    key = base64.b64decode(aes_key + "=")
    pad = 32 - len(data) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()


def robot_picture(chat_id: str, user_id: str, text: str, url: str, *,
                  bot_name: str = "夜话小助手") -> dict[str, Any]:
    """A member @-mentions the smart robot with words and a picture: a mixed message (in a
    group the robot hears only @-mentions, so a picture comes with its mention)."""
    message = robot_text(chat_id, user_id, text, bot_name=bot_name)
    del message["text"]
    return {**message, "msgtype": "mixed", "mixed": {"msg_item": [
        {"msgtype": "text", "text": {"content": f"@{bot_name} {text}"}},
        {"msgtype": "image", "image": {"url": url}}]}}


def robot_text(chat_id: str, user_id: str, text: str, *, msgid: str | None = None,
               bot_name: str = "夜话小助手") -> dict[str, Any]:
    """A smart robot's group text callback as WeCom sends it (path/100719)."""
    return {"msgid": msgid or secrets.token_urlsafe(16), "aibotid": "aib-fake-0001",
            "chatid": chat_id, "chattype": "group", "from": {"userid": user_id},
            "create_time": int(time.time()),
            "response_url": "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=x",
            "msgtype": "text", "text": {"content": f"@{bot_name} {text}"}}
