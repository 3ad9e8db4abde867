"""The WeCom callback: URL verification and encrypted message posts, verified before anything."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot.adapters.wecom.crypto import CryptoError, MessageCrypto
from bot.adapters.wecom.messages import (
    app_picture,
    parse_app_message,
    parse_robot_message,
    robot_picture,
    xml_fields,
)
from bot.adapters.wire import read_json, read_object
from bot.core.adapter import StorageError
from bot.core.messages import IncomingMessage

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a text message is at most a few KiB even encrypted
# A signed callback is taken only within five minutes of its timestamp (seconds): WeCom retries
# within seconds, the margin is for clock drift, and a captured callback is useless after.
SIGN_WINDOW_S = 300.0
Dispatch = Callable[[IncomingMessage], Awaitable[None]]
# Fetches a picture's URL (True: encrypted with the callback's key): where it was saved, or why
# it was refused (Chinese); neither when it could not be had.
FetchPicture = Callable[[str, bool], Awaitable[tuple[Path | None, str | None]]]


class CallbackRefused(Exception):
    """A callback request answered with an HTTP error and nothing else done."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class CallbackHandler:
    """Answers WeCom's GET (URL check) and POST (a member's message) on the callback URL."""

    def __init__(self, crypto: MessageCrypto, dispatch: Dispatch,
                 clock: Callable[[], float] = time.time,
                 fetch_picture: FetchPicture | None = None) -> None:
        self.crypto = crypto
        self.dispatch = dispatch
        self.clock = clock
        self.fetch_picture = fetch_picture

    async def verify_url(self, request: web.Request) -> web.Response:
        """Check the signature over echostr, decrypt it and answer its plain text."""
        try:
            signed = _signed_query(request)
            # A + left unescaped in the query reads as a space; base64 has no spaces.
            echo = request.query.get("echostr", "").replace(" ", "+")
            if not echo:
                raise CallbackRefused(400, "echostr is missing")
            plain = self._open(*signed, echo)
        except CallbackRefused as refused:
            return _refuse(request, refused)
        log.info("WeCom callback URL verified")
        return web.Response(text=plain.decode("utf-8", "replace"), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """A member's message: verify, decrypt, parse, hand to the router, then answer 200."""
        try:
            signed = _signed_query(request)
            body = await _read_body(request)
            encrypt, is_json = _envelope(body)
            plain = self._open(*signed, encrypt)
            event = _parse(plain, is_json)
        except CallbackRefused as refused:
            return _refuse(request, refused)
        if event is None:
            return web.Response(text="")
        picture = _picture(plain, is_json)
        if picture is not None and self.fetch_picture is not None:
            photo, refused_why = await self.fetch_picture(picture, is_json)
            if photo is None and refused_why is None and not event.text:
                return web.Response(text="")  # nothing left of it: logged where it failed
            event = dataclasses.replace(event, photo=photo, photo_refused=refused_why)
        try:
            await self.dispatch(event)
        except StorageError:
            # Not stored: WeCom calls back again (three tries) when a callback is not answered
            # well; the message id keeps a second delivery from being stored twice.
            log.warning("WeCom: message %s in %s not stored; WeCom is asked to send it again",
                        event.message_id, event.chat_id)
            return web.Response(status=503, text="")
        # An empty answer: no passive reply, the bot answers through the group robot.
        return web.Response(text="")

    def _open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """Verify the signature, then the time window, then decrypt; 403 if any fails."""
        try:
            self.crypto.verify(msg_signature, timestamp, nonce, encrypt)
            if not timestamp.isascii() or not timestamp.isdigit() \
                    or abs(self.clock() - int(timestamp)) > SIGN_WINDOW_S:
                raise CallbackRefused(403, f"timestamp {timestamp[:20]!r} is not within "
                                           f"{SIGN_WINDOW_S:.0f} s of now")
            return self.crypto.decrypt(encrypt)
        except CryptoError as exc:
            raise CallbackRefused(403, str(exc)) from exc


def _signed_query(request: web.Request) -> tuple[str, str, str]:
    """msg_signature, timestamp and nonce; 401 when any is missing (an unsigned request)."""
    values = tuple(request.query.get(name, "") for name in ("msg_signature", "timestamp",
                                                            "nonce"))
    if not all(values):
        raise CallbackRefused(401, "unsigned: msg_signature, timestamp or nonce is missing")
    return values[0], values[1], values[2]


async def _read_body(request: web.Request) -> bytes:
    if (request.content_length or 0) > MAX_BODY:
        raise CallbackRefused(413, "body too large")
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise CallbackRefused(413, "body too large")
    return body


def _envelope(body: bytes) -> tuple[str, bool]:
    """The encrypt field of a JSON (smart robot) or XML (app) envelope, and which it was."""
    try:
        text = body.decode("utf-8").strip()
        if text.startswith("{"):
            data = read_json(text)
            encrypt = data.get("encrypt") if isinstance(data, dict) else None
            is_json = True
        else:
            encrypt, is_json = xml_fields(text).get("Encrypt"), False
    except ValueError as exc:  # includes UnicodeDecodeError and BadJson
        raise CallbackRefused(400, f"malformed envelope: {exc}") from exc
    if not isinstance(encrypt, str) or not encrypt:
        raise CallbackRefused(400, "the envelope has no encrypt field")
    return encrypt, is_json


def _parse(plain: bytes, is_json: bool) -> IncomingMessage | None:
    try:
        text = plain.decode("utf-8")
        if is_json:
            return parse_robot_message(read_object(text))
        return parse_app_message(text)
    except ValueError as exc:  # includes UnicodeDecodeError and BadJson
        raise CallbackRefused(400, f"malformed message: {exc}") from exc


def _picture(plain: bytes, is_json: bool) -> str | None:
    """The URL of the picture a parsed message carries, if any."""
    text = plain.decode("utf-8")
    return robot_picture(read_object(text)) if is_json else app_picture(xml_fields(text))


def _refuse(request: web.Request, refused: CallbackRefused) -> web.Response:
    log.warning("WeCom callback %s from %s refused (%d): %s", request.method, request.remote,
                refused.status, refused)
    return web.Response(status=refused.status, text="")
