"""A fake DingTalk: robot and session webhooks, a client posting signed @-messages, and the
enterprise bot's file download (gettoken, robot/messageFiles/download, the file host)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.loopback import serve

# `RobotFake` and `SlidingWindow` are shared with the fake Feishu (tests/support/fakes/feishu.py).
# Where DingTalk's documents are silent the fake picks an answer: the size error's code
# (460101) and the expired-session answer are the fake's own.

MAX_BODY = 20_000  # bytes per message
PER_MINUTE = 20
SIGN_WINDOW_MS = 3600 * 1000
MORE = ", more: [https://open.dingtalk.com/document/robots/custom-robot-access]"
TOO_FAST = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute" + MORE}
BAD_SIGN = {"errcode": 310000, "errmsg": "sign not match" + MORE}
BAD_TIMESTAMP = {"errcode": 310000, "errmsg": "invalid timestamp" + MORE}
NO_KEYWORD = {"errcode": 310000, "errmsg": "keywords not in content" + MORE}
NO_TOKEN = {"errcode": 300001, "errmsg": "token is not exist"}
TOO_LONG = {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
BAD_JSON = {"errcode": 40035, "errmsg": "缺少参数 json"}
SESSION_GONE = {"errcode": 300001, "errmsg": "session is expired or not exist"}
BAD_APP = {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
ROBOT_CODE = "dingbotcode0001"  # an enterprise bot's robotCode: its app's AppKey


class SlidingWindow:
    """Counts sends per key over the last `length` seconds of `clock`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._times: dict[tuple[str, float], deque[float]] = {}

    def full(self, key: str, limit: int, length: float) -> bool:
        """Whether `key` already had `limit` sends in the last `length` seconds."""
        times = self._times.setdefault((key, length), deque())
        while times and times[0] <= self.clock() - length:
            times.popleft()
        return len(times) >= limit

    def count(self, key: str, lengths: Iterable[float], n: int = 1) -> None:
        now = self.clock()
        for length in lengths:
            self._times.setdefault((key, length), deque()).extend([now] * n)


@dataclass
class Sent:
    """One post a fake answered: to which robot (or session), what, and its answer."""

    to: str
    body: Any
    answer: dict[str, Any]

    @property
    def code(self) -> Any:
        return self.answer.get("errcode", self.answer.get("code"))

    @property
    def ok(self) -> bool:
        return self.code == 0


@dataclass
class RobotFake:
    """What both robot fakes share: clocks, what they answered, failures on request."""

    clock: Callable[[], float] = time.monotonic  # rate windows
    wall: Callable[[], float] = time.time  # signature timestamps
    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    failures: deque[int] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.window = SlidingWindow(self.clock)

    def fail_next(self, status: int = 502, times: int = 1) -> None:
        """Answer the next `times` posts with a bare HTTP `status`."""
        self.failures.extend([status] * times)

    def delivered(self, to: str) -> list[Any]:
        """Bodies accepted for a robot token (or a chat's session webhooks), in order."""
        return [s.body for s in self.sent if s.ok and s.to == to]

    def rejected(self, code: int) -> list[Sent]:
        """Posts refused with this platform error code."""
        return [s for s in self.sent if s.code == code]

    def _answer(self, to: str, body: Any, answer: dict[str, Any]) -> web.Response:
        self.sent.append(Sent(to, body, answer))
        return web.json_response(answer)


@dataclass
class FakeRobot:
    """A robot's settings on the platform: its signing secret and security keywords."""

    secret: str = ""
    keywords: tuple[str, ...] = ()


@dataclass
class FakeDingTalk(RobotFake):
    """The robot API at `url`; `minute` is how long its per-minute window lasts."""

    minute: float = 60.0
    robots: dict[str, FakeRobot] = field(default_factory=dict)
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (chat, expiry)
    app_secret: str = ""  # the enterprise bot's AppSecret, for gettoken
    files: dict[str, bytes] = field(default_factory=dict)  # downloadCode -> the picture
    tokens: set[str] = field(default_factory=set)
    downloads: list[str] = field(default_factory=list)  # downloadCodes asked for

    def add_robot(self, token: str, secret: str = "", keywords: Iterable[str] = ()) -> None:
        self.robots[token] = FakeRobot(secret, tuple(keywords))

    def spend(self, token: str, n: int) -> None:
        """Someone else sharing the robot has just sent `n` messages."""
        self.window.count(token, [self.minute], n)

    async def robot_send(self, request: web.Request) -> web.Response:
        if self.failures:
            return web.Response(status=self.failures.popleft(), text="upstream error")
        raw = await request.read()
        token = request.query.get("access_token", "")
        robot = self.robots.get(token)
        if robot is None:
            return self._answer(token, None, NO_TOKEN)
        if robot.secret:
            timestamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
            if not timestamp.isdigit() or abs(self.wall() * 1000 - int(timestamp)) \
                    > SIGN_WINDOW_MS:
                return self._answer(token, None, BAD_TIMESTAMP)
            if sign != signature(robot.secret, timestamp):
                return self._answer(token, None, BAD_SIGN)
        body, problem = _checked_body(raw)
        if problem is not None:
            return self._answer(token, body, problem)
        if robot.keywords and not any(k in json.dumps(body, ensure_ascii=False)
                                      for k in robot.keywords):
            return self._answer(token, body, NO_KEYWORD)
        if self.window.full(token, PER_MINUTE, self.minute):
            return self._answer(token, body, TOO_FAST)
        self.window.count(token, [self.minute])
        return self._answer(token, body, {"errcode": 0, "errmsg": "ok"})

    async def session_send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        chat, expires = self.sessions.get(request.query.get("session", ""), ("", 0))
        if not chat or expires < self.wall() * 1000:
            return self._answer(f"session:{chat}", None, SESSION_GONE)
        body, problem = _checked_body(raw)
        return self._answer(f"session:{chat}", body, problem or {"errcode": 0, "errmsg": "ok"})

    def new_session(self, chat_id: str, ttl_s: float = 5400.0) -> tuple[str, int]:
        """A session webhook for a chat, as an @-message carries it: URL and expiry (ms)."""
        session = secrets.token_hex(12)
        expires = int((self.wall() + ttl_s) * 1000)
        self.sessions[session] = (chat_id, expires)
        return f"{self.url}/robot/sendBySession?session={session}", expires

    def at_message(self, chat_id: str, sender: tuple[str, str], text: str, *,
                   is_admin: bool = False, session_ttl_s: float = 5400.0) -> dict[str, Any]:
        """The JSON an enterprise bot gets when `sender` (staff id, nick) @-mentions it."""
        webhook, expires = self.new_session(chat_id, session_ttl_s)
        return {
            "conversationId": chat_id, "conversationType": "2",
            "conversationTitle": "枫树村党员群",
            "chatbotCorpId": "ding9f50b15bccd16741", "chatbotUserId": "$:LWCP_v1:$bot0001",
            "msgId": f"msg{secrets.token_hex(10)}", "msgtype": "text",
            "text": {"content": f" {text}"}, "createAt": int(self.wall() * 1000),
            "senderNick": sender[1], "senderStaffId": sender[0],
            "senderId": f"$:LWCP_v1:${sender[0]}", "senderCorpId": "ding9f50b15bccd16741",
            "isAdmin": is_admin, "isInAtList": True,
            "atUsers": [{"dingtalkId": "$:LWCP_v1:$bot0001"}],
            "sessionWebhook": webhook, "sessionWebhookExpiredTime": expires,
            "robotCode": ROBOT_CODE,
        }

    def picture_message(self, chat_id: str, sender: tuple[str, str], data: bytes,
                        text: str = "") -> dict[str, Any]:
        """An @-message carrying a picture: `picture` alone, or `richText` with words."""
        code = secrets.token_urlsafe(24)
        self.files[code] = data
        message = self.at_message(chat_id, sender, text)
        del message["text"]
        picture = {"pictureDownloadCode": secrets.token_urlsafe(16), "downloadCode": code}
        if not text:
            return {**message, "msgtype": "picture", "content": picture}
        return {**message, "msgtype": "richText", "content": {"richText": [
            {"text": f" {text}"}, {**picture, "type": "picture"}]}}

    async def gettoken(self, request: web.Request) -> web.Response:
        if request.query.get("appkey") != ROBOT_CODE or \
                request.query.get("appsecret") != self.app_secret:
            return web.json_response(BAD_APP)
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token,
                                  "expires_in": 7200})

    async def message_file(self, request: web.Request) -> web.Response:
        if request.headers.get("x-acs-dingtalk-access-token") not in self.tokens:
            return web.json_response({"code": "InvalidAuthentication",
                                      "message": "不合法的access_token"}, status=401)
        body = await request.json()
        code = body.get("downloadCode") if isinstance(body, dict) else None
        self.downloads.append(str(code))
        if body.get("robotCode") != ROBOT_CODE or code not in self.files:
            return web.json_response({"code": "invalidParameter.downloadCode",
                                      "message": "downloadCode is invalid"}, status=400)
        return web.json_response({"downloadUrl": f"{self.url}/file/{code}?Expires=3600"})

    async def file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["code"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    async def callback(self, bot_url: str, payload: dict[str, Any], *, app_secret: str,
                       timestamp: str | None = None, sign: str | None = None,
                       headers: dict[str, str] | None = None) -> int:
        """POST an @-message to the bot's callback, signed unless told otherwise; the status."""
        timestamp = timestamp or str(int(self.wall() * 1000))
        signed = {"timestamp": timestamp, "sign": sign or signature(app_secret, timestamp)}
        async with aiohttp.ClientSession() as http, http.post(
                f"{bot_url}/dingtalk/callback", json=payload,
                headers=signed if headers is None else headers) as response:
            await response.read()
            return response.status


def signature(secret: str, timestamp: str) -> str:
    """DingTalk's sign, computed here independently of the bot."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def _checked_body(raw: bytes) -> tuple[Any, dict[str, Any] | None]:
    if len(raw) > MAX_BODY:
        return None, TOO_LONG
    try:
        body = json.loads(raw)
    except ValueError:
        return None, BAD_JSON
    kind = body.get("msgtype") if isinstance(body, dict) else None
    part = body.get(kind) if kind else None
    needed = {"text": ("content",), "markdown": ("title", "text"),
              "link": ("title", "text", "messageUrl")}.get(str(kind))
    if needed is None or not isinstance(part, dict) \
            or not all(isinstance(part.get(k), str) and part[k] for k in needed):
        return body, BAD_JSON
    return body, None


@asynccontextmanager
async def fake_dingtalk(**options: Any) -> AsyncIterator[FakeDingTalk]:
    """Run a fake DingTalk for the block."""
    fake = FakeDingTalk(**options)
    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes([web.post("/robot/send", fake.robot_send),
                    web.post("/robot/sendBySession", fake.session_send),
                    web.get("/gettoken", fake.gettoken),
                    web.post("/v1.0/robot/messageFiles/download", fake.message_file),
                    web.get("/file/{code}", fake.file)])
    async with serve(app) as url:
        fake.url = url
        yield fake
