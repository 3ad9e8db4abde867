"""What the DingTalk and Feishu group-robot adapters share: robots, signing, pieces, posting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot import texts
from bot.adapters.media import Media
from bot.adapters.splitting import split_text
from bot.adapters.wire import BadJson, read_object
from bot.core.adapter import AdapterError, EventHandler
from bot.settings import SettingsError

log = logging.getLogger(__name__)

POST_TIMEOUT = 15.0


@dataclass(frozen=True)
class Robot:
    """A group's custom robot: the chat it posts to, its webhook token, its signing secret."""

    chat_id: str
    token: str
    secret: str = ""  # empty: the robot is secured by keywords or an IP list instead


def parse_robots(raw: str, variable: str) -> dict[str, Robot]:
    """`chat:token:secret,chat2:token2:secret2` -> robots by chat id; SettingsError if bad."""
    robots: dict[str, Robot] = {}
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        chat_id, _, rest = (part.strip() for part in entry.partition(":"))
        token, _, secret = (part.strip() for part in rest.partition(":"))
        if not chat_id or not token or chat_id in robots:
            # Tokens and secrets are passwords: the message shows the shape, not the value.
            raise SettingsError(variable, "chat:token:secret entries separated by commas, "
                                "one per chat", "…")
        robots[chat_id] = Robot(chat_id, token, secret)
    return robots


def read_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from the environment, or `default` when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < math.inf:  # nan and inf too: a flood pause must end
        raise SettingsError(name, "a number of seconds > 0", raw)
    return value


def read_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL from the environment without its trailing slash, or `default`."""
    raw = env.get(name, "").strip() or default
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(name, "an http:// or https:// URL", raw)
    return raw.rstrip("/")


def hmac_b64(key: str, message: str) -> str:
    """base64(HMAC-SHA256(key, message)): the signature both platforms build, differently fed."""
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def same_secret(given: str, expected: str) -> bool:
    """Compare a presented secret or signature in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def json_size(text: str) -> int:
    """Bytes `text` takes as a JSON string value in a UTF-8 body, quotes left out."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def split_for_robot(text: str, max_bytes: int) -> list[str]:
    """Pieces that fit `max_bytes` in a JSON body, cut at sentence ends where possible."""
    return split_text(text, max_bytes, json_size)


def audio_link(media: Media, path: Path, duration_s: float) -> tuple[str, str]:
    """The URL the bot serves a voice file at, and the link's label with the clip's length."""
    seconds = max(round(duration_s), 1)
    minutes, seconds = divmod(seconds, 60)
    length = (texts.ROBOT_AUDIO_MINUTES.format(minutes=minutes, seconds=seconds) if minutes
              else texts.ROBOT_AUDIO_SECONDS.format(seconds=seconds))
    return media.url(path), texts.ROBOT_AUDIO_LINK.format(length=length)


def new_message_id() -> str:
    """A message id of our own: group robots answer without one."""
    return secrets.token_hex(8)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.content_length or 0
    if declared > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return bytes(body)


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON object from a request body; 400 if it is anything else (or nested too deeply,
    or holds a number that is not finite)."""
    try:
        return read_object(body)
    except BadJson as exc:
        raise web.HTTPBadRequest(text=f"body refused: {exc}") from exc


class RobotAdapter:
    """What both robot adapters hold: settings, the media files they link to, one HTTP client."""

    platform: str
    audio_format = "mp3"  # served as a link: both platforms open MP3 in their in-app browser
    private_answers = False  # a custom robot only posts to its group
    private_in_chat = False

    def __init__(self, config: Any, *, media: Media, on_event: EventHandler | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.media = media
        self.on_event = on_event
        self.clock = clock
        self.client = WebhookClient(self.platform)

    def setup_route(self, app: web.Application, path: str,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]] | None
                    ) -> None:
        """The HTTP session with the app, and the inbound route when inbound is configured."""
        app.cleanup_ctx.append(self.client.lifecycle)
        if handler is not None:
            app.router.add_post(path, handler)


class WebhookClient:
    """A robot adapter's one HTTP session: JSON posts, with network faults mapped."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.session: aiohttp.ClientSession | None = None
        # Pieces of a split message already posted, kept when a later piece failed in a way
        # the outbox retries, so the retry does not post them twice.
        self._partial: dict[Hashable, list[str]] = {}

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        """The app's cleanup context: open the session with the app, close it after."""
        self.session = aiohttp.ClientSession(headers={"User-Agent": "yehua"})
        yield
        await self.session.close()
        self.session = None

    async def post_json(self, url: str, payload: Mapping[str, Any]) -> tuple[int, Any]:
        """POST `payload`; the HTTP status and the parsed answer, or a mapped AdapterError."""
        if self.session is None or self.session.closed:
            raise AdapterError(f"the {self.platform} adapter is not running", transient=True)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with self.session.post(
                    url, data=body, headers={"Content-Type": "application/json; charset=utf-8"},
                    timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT)) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(f"{self.platform}: {type(exc).__name__}: {exc}",
                               transient=True) from exc
        if status >= 500:
            raise AdapterError(f"{self.platform} answered HTTP {status}", transient=True)
        try:
            return status, json.loads(raw)
        except ValueError as exc:
            raise AdapterError(f"{self.platform} answered HTTP {status} without JSON",
                               transient=status == 429) from exc

    async def send_pieces(self, key: Hashable, payloads: Sequence[Mapping[str, Any]],
                          request: Callable[[Mapping[str, Any]], tuple[str, Mapping[str, Any]]],
                          check: Callable[[int, Any], None]) -> str:
        """Post each payload as `request` addresses it, `check` judging each answer; return
        the first post's id. A retry of the same message skips the pieces already posted."""
        done = self._partial.pop(key, [])
        try:
            for payload in payloads[len(done):]:
                status, data = await self.post_json(*request(payload))
                check(status, data)
                done.append(new_message_id())
        except AdapterError as exc:
            if exc.transient and done:
                self._partial[key] = done
            raise
        return done[0]
