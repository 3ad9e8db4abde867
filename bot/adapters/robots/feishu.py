"""Feishu (飞书): custom group bots post, signed; the event subscription brings messages in."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot import texts
from bot.adapters.media import Media, PhotoRefused, download_picture
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
    split_for_robot,
)
from bot.adapters.robots.feishu_events import (
    PLATFORM,
    check_token,
    decrypt,
    image_key,
    parse_event,
    verify_signature,
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
from bot.settings import SettingsError

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://open.feishu.cn"
FREQUENCY_CODE = 11232  # "frequency limited psm[...]"
BAD_REQUEST_CODE = 9499  # "Bad Request", and also "too many request" under load
_FLOOD_WORDS = re.compile(r"too many|frequency|rate limit", re.IGNORECASE)
MAX_PIECE_BYTES = 18_000  # a custom bot takes bodies up to 20 KB: room for the envelope
MAX_EVENT_BYTES = 256 * 1024
TOKEN_MARGIN_S = 300.0  # a tenant token this close to expiring is fetched anew
SEEN_EVENTS = 4096  # event ids remembered, so a redelivered event is handled once
# Feishu pushes an unanswered event again after 15 s, 5 min, 1 h and 6 h: an id is remembered
# in the database a while past that, so another instance refuses a redelivery or a replay too.
SHARED_SEEN_FOR = timedelta(hours=8)


@dataclass(frozen=True)
class FeishuConfig:
    """Custom bots by chat id, the event subscription's secrets, where the API lives."""

    robots: dict[str, Robot] = field(default_factory=dict)
    verification_token: str = ""
    encrypt_key: str = ""
    api_base: str = DEFAULT_API_BASE
    flood_wait: float = 60.0  # seconds to hold off after "frequency limited"
    # The app's credentials, to fetch the pictures members send (empty: pictures are not kept).
    app_id: str = ""
    app_secret: str = ""


def load_config(env: Mapping[str, str]) -> FeishuConfig | None:
    """YEHUA_FEISHU_* from the environment; None when no bot and no event token is set."""
    robots = parse_robots(env.get("YEHUA_FEISHU_ROBOTS", ""), "YEHUA_FEISHU_ROBOTS")
    token = env.get("YEHUA_FEISHU_VERIFICATION_TOKEN", "").strip()
    encrypt_key = env.get("YEHUA_FEISHU_ENCRYPT_KEY", "").strip()
    if encrypt_key and not token:
        raise SettingsError("YEHUA_FEISHU_VERIFICATION_TOKEN", "the event subscription's "
                            "Verification Token, set with YEHUA_FEISHU_ENCRYPT_KEY", "")
    if not robots and not token:
        return None
    return FeishuConfig(
        robots=robots, verification_token=token, encrypt_key=encrypt_key,
        api_base=read_url(env, "YEHUA_FEISHU_API_BASE", DEFAULT_API_BASE),
        flood_wait=read_seconds(env, "YEHUA_FEISHU_FLOOD_WAIT", 60.0),
        app_id=env.get("YEHUA_FEISHU_APP_ID", "").strip(),
        app_secret=env.get("YEHUA_FEISHU_APP_SECRET", "").strip())


def sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(key="timestamp\\nsecret", msg="")): the key is the string to sign."""
    return hmac_b64(f"{timestamp}\n{secret}", "")


def check_response(status: int, data: Any, *, flood_wait: float) -> None:
    """Map Feishu's answer to our errors: the one place that knows its error codes."""
    if not isinstance(data, dict):
        raise AdapterError(f"Feishu answered HTTP {status} with {data!r}")
    code = data.get("code", data.get("StatusCode"))
    message = str(data.get("msg", data.get("StatusMessage", "")))
    if status == 200 and code == 0:
        return
    if status == 429 or code == FREQUENCY_CODE \
            or (code == BAD_REQUEST_CODE and _FLOOD_WORDS.search(message)):
        raise RetryAfter(flood_wait, chat_only=True)  # one robot = one group
    raise AdapterError(f"Feishu code {code}: {message}")


class FeishuAdapter(RobotAdapter):
    """Posts through each group's custom bot; takes group messages from the event feed."""

    platform = PLATFORM
    limits = RateLimits(chat_per_second=5, chat_per_minute=100)
    config: FeishuConfig

    def __init__(self, config: FeishuConfig, *, directory: Directory | None = None,
                 **parts: Any) -> None:
        super().__init__(config, **parts)
        self.directory = directory
        self._seen: dict[str, None] = {}  # recent event ids, oldest first
        self._token: tuple[str, float] | None = None  # tenant access token, until when

    def setup(self, app: web.Application) -> None:
        """The HTTP session with the app; the event route when a Verification Token is set."""
        self.setup_route(app, "/feishu/events",
                         self._events if self.config.verification_token else None)

    async def send(self, chat_id: str, message: OutgoingMessage) -> str:
        """Post to the chat's custom bot, signed when it has a secret."""
        if isinstance(message, OutgoingText):
            # No private messages through a custom bot: one @-line in the group at most.
            reply = as_group_reply(message)
            if reply is None:
                return ""
            message = reply
        robot = self.config.robots.get(chat_id)
        if robot is None:
            raise AdapterError(f"no Feishu bot for chat {chat_id!r} (YEHUA_FEISHU_ROBOTS)")
        url = f"{self.config.api_base}/open-apis/bot/v2/hook/{quote(robot.token, safe='')}"
        return await self.client.send_pieces(
            (chat_id, message), self._payloads(message),
            lambda payload: (url, self._signed(robot, payload)),
            functools.partial(check_response, flood_wait=self.config.flood_wait))

    def _signed(self, robot: Robot, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        if not robot.secret:
            return payload
        timestamp = str(int(self.clock()))
        return {"timestamp": timestamp, "sign": sign(robot.secret, timestamp), **payload}

    def _payloads(self, message: OutgoingMessage) -> list[dict[str, Any]]:
        match message:
            case OutgoingText(text=text, mention=mention):
                pieces = split_for_robot(text, MAX_PIECE_BYTES)
                if mention and pieces:
                    pieces[0] = f'<at user_id="{mention}"></at> {pieces[0]}'
                return [{"msg_type": "text", "content": {"text": piece}} for piece in pieces]
            case OutgoingAudio(path=path, duration_s=seconds, caption=caption):
                url, label = audio_link(self.media, path, seconds)
                return [{"msg_type": "post", "content": {"post": {"zh_cn": {
                    "title": caption or texts.ROBOT_AUDIO_TITLE,
                    "content": [[{"tag": "a", "href": url, "text": label}]]}}}}]
            case _:
                raise Unsupported(f"Feishu custom bots cannot carry {type(message).__name__}")

    def _open(self, outer: dict[str, Any]) -> dict[str, Any]:
        """The event inside the body: decrypted with the Encrypt Key when one is set."""
        encrypted = outer.get("encrypt")
        if not self.config.encrypt_key:
            if encrypted is not None:
                log.error("feishu: an encrypted event came in: set YEHUA_FEISHU_ENCRYPT_KEY")
                raise web.HTTPBadRequest(text="encrypted event, no Encrypt Key configured")
            return outer
        if not isinstance(encrypted, str):
            raise web.HTTPUnauthorized(text="event not encrypted")
        try:
            return json_object(decrypt(self.config.encrypt_key, encrypted))
        except (ValueError, web.HTTPBadRequest) as exc:
            raise web.HTTPUnauthorized(text="event cannot be decrypted") from exc

    async def _first_time(self, event_id: object) -> bool:
        """Whether this event is new to every instance; StorageError when that cannot be told."""
        if not isinstance(event_id, str) or not event_id:
            return True
        if event_id in self._seen:
            return False
        if self.directory is not None and not await self.directory.accept_once(
                PLATFORM, f"event:{event_id}", datetime.fromtimestamp(self.clock(), UTC),
                SHARED_SEEN_FOR):
            return False
        self._seen[event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            del self._seen[next(iter(self._seen))]
        return True

    async def _forget(self, event_id: object) -> None:
        """Take a redelivery of this event again, on this instance or any other."""
        self._seen.pop(str(event_id), None)
        if self.directory is None or not isinstance(event_id, str) or not event_id:
            return
        try:
            await self.directory.forget_once(PLATFORM, f"event:{event_id}")
        except StorageError:  # this instance still takes it; another refuses it as seen
            log.warning("feishu: event %s not stored, and its id could not be forgotten",
                        event_id)

    async def _events(self, request: web.Request) -> web.Response:
        body = await read_body(request, MAX_EVENT_BYTES)
        event = self._open(json_object(body))
        token = self.config.verification_token
        if event.get("type") == "url_verification":
            check_token(event.get("token"), token)
            return web.json_response({"challenge": str(event.get("challenge", ""))})
        if self.config.encrypt_key:
            verify_signature(request.headers, body, self.config.encrypt_key, self.clock())
        # Schema 2.0 carries the token in its header; the older schema at the top level.
        header = event.get("header")
        if not isinstance(header, dict):
            header = event
        check_token(header.get("token"), token)
        event_id = header.get("event_id", header.get("uuid"))
        try:
            first = await self._first_time(event_id)
        except StorageError:
            return web.json_response({"code": 503, "msg": "not stored yet"}, status=503)
        if not first:
            log.info("feishu: event %s delivered again, ignored", event_id)
            return web.json_response({})
        message = parse_event(event)
        if message is not None and self.on_event is not None:
            key = image_key(event)
            if key is not None:
                message = await self._with_picture(message, key)
            try:
                await self.on_event(message)
            except StorageError:
                # Feishu pushes an event again when it is not answered 200 (after 15 s, 5 min,
                # 1 h and 6 h): so forget having seen it, and say it was not taken.
                await self._forget(event_id)
                return web.json_response({"code": 503, "msg": "not stored yet"}, status=503)
        return web.json_response({})


    async def _with_picture(self, message: IncomingMessage, key: str) -> IncomingMessage:
        """The message with its picture fetched through the message resource API and saved,
        or why it was refused; as it was when the app's credentials are not set."""
        if not (self.config.app_id and self.config.app_secret):
            log.info("feishu: a picture came, but YEHUA_FEISHU_APP_ID/_APP_SECRET are not set")
            return message
        session = self.client.session
        try:
            if session is None:
                raise AdapterError("no HTTP session")
            url = (f"{self.config.api_base}/open-apis/im/v1/messages/"
                   f"{quote(message.message_id, safe='')}/resources/{quote(key, safe='')}"
                   "?type=image")
            data = await download_picture(session, url, headers={
                "Authorization": f"Bearer {await self._tenant_token(session)}"})
            path = await self.media.save_photo(data)
        except PhotoRefused as refused:
            log.info("feishu: picture in %s not taken: %s", message.message_id, refused.text)
            return replace(message, photo_refused=refused.text)
        except (AdapterError, StorageError) as exc:
            log.warning("feishu: picture in %s not fetched: %s", message.message_id, exc)
            return message
        return replace(message, photo=path)

    async def _tenant_token(self, session: aiohttp.ClientSession) -> str:
        """The app's tenant_access_token, kept until near its expiry."""
        if self._token is not None and self._token[1] > self.clock():
            return self._token[0]
        url = f"{self.config.api_base}/open-apis/auth/v3/tenant_access_token/internal"
        try:
            async with session.post(url, json={"app_id": self.config.app_id,
                                               "app_secret": self.config.app_secret},
                                    timeout=aiohttp.ClientTimeout(total=30)) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AdapterError(f"tenant_access_token failed: {exc!r}", transient=True) from exc
        token = answer.get("tenant_access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or answer.get("code") != 0:
            code = answer.get("code") if isinstance(answer, dict) else None
            raise AdapterError(f"tenant_access_token answered code {code}")
        expire = answer.get("expire")
        life = float(expire) if isinstance(expire, int | float) else 7200.0
        self._token = (token, self.clock() + life - TOKEN_MARGIN_S)
        return token


def create_adapter(config: FeishuConfig, *, directory: Directory, media: Media,
                   base_url: str) -> FeishuAdapter:
    """The app's entry point: a Feishu adapter for these settings."""
    # A robot knows its groups from its own settings, and `media` builds the public URLs; the
    # directory remembers which events were already taken, whichever instance took them.
    return FeishuAdapter(config, directory=directory, media=media)
