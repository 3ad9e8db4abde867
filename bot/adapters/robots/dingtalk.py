"""DingTalk (钉钉): custom group robots post, signed; an enterprise bot's @-messages come in."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlsplit

import aiohttp
from aiohttp import web

from bot import texts
from bot.adapters.media import Media, PhotoRefused, download_picture
from bot.adapters.redelivery import Redelivery
from bot.adapters.robots.common import (
    Robot,
    RobotAdapter,
    audio_link,
    hmac_b64,
    json_object,
    parse_robots,
    read_body,
    read_seconds,
    read_url,
    same_secret,
    split_for_robot,
)
from bot.core.adapter import (
    AdapterError,
    Directory,
    RateLimits,
    RetryAfter,
    StorageError,
    Unsupported,
)
from bot.core.messages import (
    IncomingMessage,
    OutgoingAudio,
    OutgoingMessage,
    OutgoingText,
    as_group_reply,
)
from bot.settings import SettingsError, storage_retry_seconds

log = logging.getLogger(__name__)

PLATFORM = "dingtalk"
DEFAULT_API_BASE = "https://oapi.dingtalk.com"
DEFAULT_OPENAPI_BASE = "https://api.dingtalk.com"
TOKEN_MARGIN_S = 300.0  # an access token this close to expiring is fetched anew
FLOOD_ERRCODES = frozenset({130101, 410100})  # "send too fast, exceed 20 times per minute"
BUSY_ERRCODES = frozenset({-1})  # "系统繁忙"
MAX_PIECE_BYTES = 18_000  # a robot takes bodies up to 20,000 bytes: room for the envelope
MAX_CALLBACK_BYTES = 64 * 1024
SIGN_WINDOW_S = 3600.0  # signed requests older or newer than an hour are refused
# A timestamp up to an hour ahead stays acceptable until an hour after it: a signature must be
# remembered for two windows from when it was first seen.
REMEMBER_SIGNATURES = timedelta(seconds=2 * SIGN_WINDOW_S)
SESSION_MARGIN_S = 60.0  # a session webhook this close to expiring is not used
_LEADING_MENTIONS = re.compile(r"^\s*(?:[@＠]\S+\s+)*")


@dataclass(frozen=True)
class DingTalkConfig:
    """Robots by chat id, the enterprise bot's app secret (inbound), where the API lives."""

    robots: dict[str, Robot] = field(default_factory=dict)
    app_secret: str = ""
    api_base: str = DEFAULT_API_BASE
    flood_wait: float = 60.0  # seconds to hold off after "send too fast"
    retry_window: float = 120.0  # seconds an event is written again while storage fails
    openapi_base: str = DEFAULT_OPENAPI_BASE  # the newer API: members' pictures are fetched there


def load_config(env: Mapping[str, str]) -> DingTalkConfig | None:
    """YEHUA_DINGTALK_* from the environment; None when no robot and no app secret is set."""
    robots = parse_robots(env.get("YEHUA_DINGTALK_ROBOTS", ""), "YEHUA_DINGTALK_ROBOTS")
    token = env.get("YEHUA_DINGTALK_ACCESS_TOKEN", "").strip()
    if token:
        chat_id = env.get("YEHUA_DINGTALK_CHAT_ID", "").strip()
        if not chat_id or chat_id in robots:
            raise SettingsError("YEHUA_DINGTALK_CHAT_ID", "the chat id of the robot's group, "
                                "not already in YEHUA_DINGTALK_ROBOTS", chat_id)
        robots[chat_id] = Robot(chat_id, token, env.get("YEHUA_DINGTALK_SECRET", "").strip())
    app_secret = env.get("YEHUA_DINGTALK_APP_SECRET", "").strip()
    if not robots and not app_secret:
        return None
    return DingTalkConfig(
        robots=robots, app_secret=app_secret,
        api_base=read_url(env, "YEHUA_DINGTALK_API_BASE", DEFAULT_API_BASE),
        flood_wait=read_seconds(env, "YEHUA_DINGTALK_FLOOD_WAIT", 60.0),
        retry_window=storage_retry_seconds(env),
        openapi_base=read_url(env, "YEHUA_DINGTALK_OPENAPI_BASE", DEFAULT_OPENAPI_BASE))


def sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg="timestamp\\nsecret")): robot sends and callbacks."""
    return hmac_b64(secret, f"{timestamp}\n{secret}")


def check_response(status: int, data: Any, *, flood_wait: float) -> None:
    """Map DingTalk's answer to our errors: the one place that knows its error codes."""
    if not isinstance(data, dict):
        raise AdapterError(f"DingTalk answered HTTP {status} with {data!r}")
    code, message = data.get("errcode"), data.get("errmsg", "")
    if status == 200 and code == 0:
        return
    if status == 429 or code in FLOOD_ERRCODES:
        raise RetryAfter(flood_wait, chat_only=True)  # one robot = one group
    raise AdapterError(f"DingTalk errcode {code}: {message}", transient=code in BUSY_ERRCODES)


def verify_callback(headers: Mapping[str, str], app_secret: str, now: float) -> None:
    """Refuse a callback unless its `timestamp`/`sign` headers prove DingTalk sent it lately."""
    timestamp, signature = headers.get("timestamp", ""), headers.get("sign", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        raise web.HTTPUnauthorized(text="unsigned request")
    if not same_secret(signature, sign(app_secret, timestamp)):
        raise web.HTTPUnauthorized(text="bad sign")
    if abs(now - int(timestamp) / 1000) > SIGN_WINDOW_S:
        raise web.HTTPForbidden(text="stale timestamp")


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL (the port spelled out), to compare where URLs point."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number
        return ("", "", None)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _words(payload: Mapping[str, Any]) -> str | None:
    """The words of a text message or a rich text's text parts; None for other kinds."""
    kind, content = payload.get("msgtype"), payload.get("content")
    if kind == "text":
        text = payload.get("text")
        words = text.get("content") if isinstance(text, dict) else None
        return words if isinstance(words, str) else None
    if kind == "richText" and isinstance(content, dict) \
            and isinstance(content.get("richText"), list):
        return "".join(str(part["text"]) for part in content["richText"]
                       if isinstance(part, dict) and isinstance(part.get("text"), str))
    if kind == "picture":
        return ""
    return None


def picture_code(payload: Mapping[str, Any]) -> str | None:
    """The downloadCode of the picture a message carries (alone, or in a rich text)."""
    content = payload.get("content")
    if not isinstance(content, dict):
        return None
    parts = [content] if payload.get("msgtype") == "picture" else \
        content.get("richText", []) if payload.get("msgtype") == "richText" else []
    for part in parts if isinstance(parts, list) else ():
        code = part.get("downloadCode") if isinstance(part, dict) else None
        if isinstance(code, str) and code:
            return code
    return None


def parse_message(payload: Mapping[str, Any]) -> IncomingMessage | None:
    """A group @-message to the enterprise bot (words, a picture, or both) -> IncomingMessage;
    None for anything else."""
    words = _words(payload)
    if words is None or payload.get("conversationType") != "2":
        return None
    if payload.get("msgtype") != "text" and picture_code(payload) is None and not words.strip():
        return None
    chat_id, message_id = payload.get("conversationId"), payload.get("msgId")
    user_id = payload.get("senderStaffId") or payload.get("senderId")
    if not all(isinstance(v, str) and v for v in (chat_id, message_id, user_id)):
        return None
    return IncomingMessage(
        platform=PLATFORM, chat_id=str(chat_id), message_id=str(message_id),
        user_id=str(user_id), user_name=str(payload.get("senderNick") or ""),
        text=_LEADING_MENTIONS.sub("", words).strip(),
        platform_role="admin" if payload.get("isAdmin") is True else "member")


class DingTalkAdapter(RobotAdapter):
    """Posts through each group's custom robot; answers @-messages through their session."""

    platform = PLATFORM
    limits = RateLimits(chat_per_minute=20)
    config: DingTalkConfig

    def __init__(self, config: DingTalkConfig, *, directory: Directory | None = None,
                 **parts: Any) -> None:
        super().__init__(config, **parts)
        self.directory = directory
        self._sessions: dict[str, tuple[str, float]] = {}  # chat -> (webhook, expires at)
        self._tokens: dict[str, tuple[str, float]] = {}  # robot code -> (access token, until)
        self.redelivery = Redelivery(config.retry_window, self.send)

    def setup(self, app: web.Application) -> None:
        """The HTTP session with the app; the callback route when an app secret is set."""
        self.setup_route(app, "/dingtalk/callback",
                         self._callback if self.config.app_secret else None)
        app.on_shutdown.append(self.redelivery.shutdown)

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Post to the chat's robot, or answer through a live session webhook."""
        if isinstance(message, OutgoingText):
            # No private messages through a robot: one @-line in the group at most.
            reply = as_group_reply(message)
            if reply is None:
                return ""
            message = reply
        target = self._target(chat_id, message)
        return await self.client.send_pieces(
            (chat_id, message), self._payloads(message), lambda payload: (target(), payload),
            functools.partial(check_response, flood_wait=self.config.flood_wait))

    def _payloads(self, message: OutgoingMessage) -> list[dict[str, Any]]:
        match message:
            case OutgoingText(text=text, mention=mention):
                pieces = split_for_robot(text, MAX_PIECE_BYTES)
                payloads: list[dict[str, Any]] = [
                    {"msgtype": "text", "text": {"content": piece}} for piece in pieces]
                # Members from outside the organisation have no staff id a robot can @.
                if mention and payloads and not mention.startswith("$:"):
                    # The @ only highlights when the id also appears in the text.
                    payloads[0]["text"]["content"] = f"@{mention} {pieces[0]}"
                    payloads[0]["at"] = {"atUserIds": [mention], "isAtAll": False}
                return payloads
            case OutgoingAudio(path=path, duration_s=seconds, caption=caption):
                url, label = audio_link(self.media, path, seconds)
                body = f"{caption}\n\n[{label}]({url})" if caption else f"[{label}]({url})"
                return [{"msgtype": "markdown", "markdown": {
                    "title": caption or texts.ROBOT_AUDIO_TITLE, "text": body}}]
            case _:
                raise Unsupported(f"DingTalk robots cannot carry {type(message).__name__}")

    def _target(self, chat_id: str, message: OutgoingMessage) -> Callable[[], str]:
        """Where to post: a reply goes through the live session webhook, the rest through the
        chat's robot (signed afresh for every post), the session serving chats without one."""
        session = self._session(chat_id)
        robot = self.config.robots.get(chat_id)
        replying = isinstance(message, OutgoingText) and message.reply_to is not None
        if session is not None and (replying or robot is None):
            url: str = session
            return lambda: url
        if robot is not None:
            return functools.partial(self._robot_url, robot)
        raise AdapterError(f"no DingTalk robot for chat {chat_id!r} (YEHUA_DINGTALK_ROBOTS) "
                           "and no recent @-message to answer there")

    def _robot_url(self, robot: Robot) -> str:
        url = f"{self.config.api_base}/robot/send?access_token={quote_plus(robot.token)}"
        if robot.secret:
            timestamp = str(int(self.clock() * 1000))
            url += f"&timestamp={timestamp}&sign={quote_plus(sign(robot.secret, timestamp))}"
        return url

    def _session(self, chat_id: str) -> str | None:
        url, expires = self._sessions.get(chat_id, ("", 0.0))
        return url if url and expires - SESSION_MARGIN_S > self.clock() else None

    def _remember_session(self, payload: Mapping[str, Any]) -> None:
        """Keep the session webhook to answer through, if it is DingTalk's own (`_session`
        uses it only while it lives).

        The webhook comes in the body, which the callback's signature does not cover: any other
        host could be a forger's, and the bot would post members' words to it."""
        url, expires = payload.get("sessionWebhook"), payload.get("sessionWebhookExpiredTime")
        if not isinstance(url, str) or not str(expires).isdigit():
            return
        chat_id = str(payload["conversationId"])
        if origin(url) != origin(self.config.api_base):
            log.warning("dingtalk: a session webhook for %s on another host than %s ignored: "
                        "answering through the group's robot", chat_id, self.config.api_base)
            return
        self._sessions[chat_id] = (url, int(str(expires)) / 1000)

    async def _first_time(self, headers: Mapping[str, str]) -> bool:
        """Whether this (timestamp, sign) pair is new: it signs no part of the body, so a
        captured pair would otherwise carry any body for an hour. Remembered in the database,
        so a restart or another instance refuses it too; StorageError when that fails."""
        if self.directory is None:
            return True
        signature = f"{headers.get('timestamp', '')}:{headers.get('sign', '')}"
        seen_at = datetime.fromtimestamp(self.clock(), UTC)
        return await self.directory.accept_once(PLATFORM, signature, seen_at,
                                                REMEMBER_SIGNATURES)

    async def _callback(self, request: web.Request) -> web.Response:
        verify_callback(request.headers, self.config.app_secret, self.clock())
        payload = json_object(await read_body(request, MAX_CALLBACK_BYTES))
        message = parse_message(payload)
        checked = False

        async def take() -> None:
            # The signature is recorded before anything in the body is used; on a retry after
            # a storage fault it is recorded once, and a pair someone else used meanwhile is
            # dropped quietly (that copy was taken).
            nonlocal checked
            if not checked:
                if not await self._first_time(request.headers):
                    raise Replayed
                checked = True
                self._remember_session(payload)
            if message is not None and self.on_event is not None:
                await self.on_event(await self._with_picture(message, payload))

        try:
            await take()
        except Replayed:
            log.warning("dingtalk: a callback signature used before came again from %s: "
                        "refused", request.remote)
            raise web.HTTPConflict(text="request already accepted") from None
        except StorageError as exc:
            if message is None:  # nothing to keep: an ignored message
                return web.json_response({})
            # DingTalk's HTTP robot is not known to send a message twice: it is kept and
            # written again here. Should DingTalk resend it all the same, it is stored once.
            log.warning("dingtalk: message %s not stored yet: %s", message.message_id, exc)
            self.redelivery.keep(functools.partial(_quietly_replayed, take), message)
            return web.json_response({"errcode": 503, "errmsg": "not stored yet"}, status=503)
        if message is None:
            log.debug("dingtalk: ignored a %s message", payload.get("msgtype"))
        return web.json_response({})


    async def _with_picture(self, message: IncomingMessage, payload: Mapping[str, Any]
                            ) -> IncomingMessage:
        """The message with its picture fetched and saved (or why it was refused)."""
        code, robot = picture_code(payload), payload.get("robotCode")
        if code is None or message.photo is not None or message.photo_refused is not None:
            return message
        try:
            if not isinstance(robot, str) or not robot:
                raise AdapterError("a picture without the robotCode to fetch it with")
            url = await self._download_url(robot, code)
            session = self.client.session
            if session is None:
                raise AdapterError("no HTTP session")
            data = await download_picture(session, url)
            path = await self.media.save_photo(data)
        except PhotoRefused as refused:
            log.info("dingtalk: picture in %s not taken: %s", message.message_id, refused.text)
            return replace(message, photo_refused=refused.text)
        except (AdapterError, StorageError) as exc:
            log.warning("dingtalk: picture in %s not fetched: %s", message.message_id, exc)
            return message
        return replace(message, photo=path)

    async def _download_url(self, robot: str, code: str) -> str:
        """Where DingTalk serves the picture for a while: messageFiles/download, with the
        enterprise bot's access token (its robotCode is the app's AppKey)."""
        status, answer = await self._api("POST", f"{self.config.openapi_base}/v1.0/robot/"
                                         "messageFiles/download",
                                         json={"downloadCode": code, "robotCode": robot},
                                         headers={"x-acs-dingtalk-access-token":
                                                  await self._access_token(robot)})
        url = answer.get("downloadUrl")
        if status != 200 or not isinstance(url, str) or not url.startswith("http"):
            raise AdapterError(f"messageFiles/download answered {status}: {answer!r}")
        return url

    async def _access_token(self, robot: str) -> str:
        """The app's access token (gettoken with its AppKey and AppSecret), kept until near
        its expiry."""
        cached = self._tokens.get(robot)
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        status, answer = await self._api("GET", f"{self.config.api_base}/gettoken", params={
            "appkey": robot, "appsecret": self.config.app_secret})
        token = answer.get("access_token")
        if status != 200 or answer.get("errcode") != 0 or not isinstance(token, str):
            raise AdapterError(f"gettoken answered {status}: errcode {answer.get('errcode')}")
        expires = answer.get("expires_in")
        life = float(expires) if isinstance(expires, int | float) else 7200.0
        self._tokens[robot] = (token, self.clock() + life - TOKEN_MARGIN_S)
        return token

    async def _api(self, method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        session = self.client.session
        if session is None:
            raise AdapterError("no HTTP session")
        try:
            async with session.request(method, url, timeout=aiohttp.ClientTimeout(total=30),
                                       **kwargs) as response:
                body = await response.json(content_type=None)
                return response.status, body if isinstance(body, dict) else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AdapterError(f"{url} failed: {exc!r}", transient=True) from exc


class Replayed(Exception):
    """A callback whose (timestamp, sign) pair was accepted before."""


async def _quietly_replayed(take: Callable[[], Awaitable[None]]) -> None:
    """A kept event's retry: a signature recorded meanwhile by a copy of it ends the retry."""
    try:
        await take()
    except Replayed:
        log.info("dingtalk: a kept callback was taken by a copy of it meanwhile")

def create_adapter(config: DingTalkConfig, *, directory: Directory, media: Media,
                   base_url: str) -> DingTalkAdapter:
    """The app's entry point: a DingTalk adapter for these settings."""
    # A robot knows its groups from its own settings, and `media` builds the public URLs; the
    # directory remembers which callback signatures were already accepted.
    return DingTalkAdapter(config, directory=directory, media=media)
