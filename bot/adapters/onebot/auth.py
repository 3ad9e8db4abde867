"""Who may talk to the bot as OneBot: X-Self-ID, the X-Signature of HTTP POST events, the
access token of reverse WebSockets, and the size of what they send. Refusals raise the HTTP
answer (400/401/403/413) before anything is read as an event."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from bot.adapters.onebot.config import OneBotConfig
from bot.adapters.onebot.wire import signature_ok
from bot.adapters.wire import BadJson, read_object

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 1024 * 1024


def checked_self_id(config: OneBotConfig, request: web.Request) -> str:
    """The X-Self-ID header: 400 without it, 403 for an account other than the configured one."""
    self_id = request.headers.get("X-Self-ID", "").strip()
    if not self_id.isascii() or not self_id.isdigit():
        raise web.HTTPBadRequest(text="X-Self-ID header missing or not a QQ number")
    if config.self_id and self_id != config.self_id:
        raise web.HTTPForbidden(text="not the configured bot account")
    return self_id


async def signed_event(config: OneBotConfig, request: web.Request) -> dict[str, Any]:
    """An HTTP POST event whose signature holds: 413 too big, 401/403 unsigned or forged,
    400 not a JSON object (or nested too deeply, or with a number that is not finite)."""
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_EVENT_BYTES, request.content_length or 0)
    body: bytes | bytearray
    if request.content_length is not None and not request.headers.get("Transfer-Encoding"):
        # The parser ends the body where Content-Length says; mostly it has come whole with
        # the headers, and is taken as it lies (no copy gathered chunk by chunk).
        content = request.content
        body = content.read_nowait() if content.is_eof() else await request.read()
    else:
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > MAX_EVENT_BYTES:
                raise web.HTTPRequestEntityTooLarge(MAX_EVENT_BYTES, len(body))
    check_signature(config, request, bytes(body))
    try:
        return read_object(body)
    except BadJson as exc:
        raise web.HTTPBadRequest(text=f"the body is refused: {exc}") from exc


def check_signature(config: OneBotConfig, request: web.Request, body: bytes) -> None:
    """X-Signature against YEHUA_ONEBOT_SECRET: 401 when missing, 403 when wrong."""
    if not config.secret:
        if config.allow_no_token:
            return
        # Unsigned events could claim any sender and role: without a secret, none are taken.
        raise web.HTTPForbidden(text="set YEHUA_ONEBOT_SECRET to receive events by HTTP POST")
    header = request.headers.get("X-Signature")
    if not header:
        raise web.HTTPUnauthorized(text="X-Signature missing")
    if not signature_ok(config.secret, body, header):
        log.warning("onebot: refused an event with a wrong signature from %s", request.remote)
        raise web.HTTPForbidden(text="X-Signature does not match")


def check_token(config: OneBotConfig, request: web.Request) -> None:
    """`Authorization: Bearer <token>` (or `?access_token=`): 401 when missing, 403 when wrong."""
    token = config.access_token
    if not token:
        return
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() not in ("bearer", "token"):
        given = ""
    given = given.strip() or request.query.get("access_token", "")
    if not given:
        raise web.HTTPUnauthorized(text="access token missing")
    if not hmac.compare_digest(given.encode(), token.encode()):
        log.warning("onebot: refused a WebSocket with a wrong token from %s", request.remote)
        raise web.HTTPForbidden(text="access token wrong")
