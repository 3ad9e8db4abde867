"""Feishu event subscription: signatures, decryption, and parsing im.message.receive_v1."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot import texts
from bot.adapters.robots.common import same_secret
from bot.adapters.wire import BadJson, read_json
from bot.core.messages import IncomingMessage

PLATFORM = "feishu"
SIGN_WINDOW_S = 3600.0
TIMESTAMP_HEADER = "X-Lark-Request-Timestamp"
NONCE_HEADER = "X-Lark-Request-Nonce"
SIGNATURE_HEADER = "X-Lark-Signature"
_LEADING_MENTIONS = re.compile(r"^\s*(?:@_(?:user_\d+|all)\s*)+")


def decrypt(encrypt_key: str, encrypted: str) -> bytes:
    """An `encrypt` field opened: AES-256-CBC, key sha256(Encrypt Key), IV first; ValueError."""
    raw = base64.b64decode(encrypted, validate=True)
    if len(raw) < 32 or len(raw) % 16:
        raise ValueError("not a whole number of AES blocks after the IV")
    # Imported here: only bots with an encrypted Feishu subscription need the library.
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = hashlib.sha256(encrypt_key.encode()).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """X-Lark-Signature: hex sha256 of timestamp + nonce + Encrypt Key + the raw body."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def verify_signature(headers: Mapping[str, str], body: bytes, encrypt_key: str,
                     now: float) -> None:
    """Refuse an event unless its X-Lark-* headers sign this body, and lately."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce, given = headers.get(NONCE_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not (timestamp and nonce and given):
        raise web.HTTPUnauthorized(text="unsigned event")
    if not same_secret(given, signature(timestamp, nonce, encrypt_key, body)):
        raise web.HTTPUnauthorized(text="bad signature")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGN_WINDOW_S:
        raise web.HTTPForbidden(text="stale timestamp")


def check_token(given: object, expected: str) -> None:
    """Refuse a request whose Verification Token is missing or wrong."""
    if not isinstance(given, str) or not same_secret(given, expected):
        raise web.HTTPUnauthorized(text="bad verification token")


def _text_without_mentions(text: str, mentions: object) -> str:
    """Leading @s (the bot, usually) dropped; later ones written as @name."""
    text = _LEADING_MENTIONS.sub("", text)
    named = [m for m in mentions if isinstance(m, dict)] if isinstance(mentions, list) else []
    for mention in sorted(named, key=lambda m: len(str(m.get("key", ""))), reverse=True):
        if mention.get("key"):
            text = text.replace(str(mention["key"]), f"@{mention.get('name', '')}")
    return text.strip()


def _words_and_image(kind: object, content: object) -> tuple[str | None, str | None]:
    """The words and first image_key of a text, image or post (rich text) message's content."""
    if not isinstance(content, dict):
        return None, None
    if kind == "text":
        text = content.get("text")
        return (text if isinstance(text, str) else None), None
    if kind == "image":
        key = content.get("image_key")
        return "", key if isinstance(key, str) and key else None
    if kind == "post":
        words: list[str] = []
        image: str | None = None
        lines = content.get("content")
        for line in lines if isinstance(lines, list) else ():
            for part in line if isinstance(line, list) else ():
                if not isinstance(part, dict):
                    continue
                if part.get("tag") in ("text", "at") and isinstance(part.get("text"), str):
                    words.append(part["text"])
                elif part.get("tag") == "at" and isinstance(part.get("user_id"), str):
                    words.append(part["user_id"])  # "@_user_1", a key `mentions` names
                elif part.get("tag") == "img" and image is None \
                        and isinstance(part.get("image_key"), str):
                    image = part["image_key"]
            words.append("\n")
        return "".join(words).strip(), image
    return None, None


def image_key(payload: Mapping[str, Any]) -> str | None:
    """The image_key of the picture a message event carries, if any."""
    event = payload.get("event")
    message = event.get("message") if isinstance(event, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("content"), str):
        return None
    try:
        content = read_json(message["content"])
    except BadJson:
        return None
    return _words_and_image(message.get("message_type"), content)[1]


def parse_event(payload: Mapping[str, Any]) -> IncomingMessage | None:
    """A v2 im.message.receive_v1 message in a group (text, a picture, or a post with both)
    -> IncomingMessage; else None."""
    header, event = payload.get("header"), payload.get("event")
    if payload.get("schema") != "2.0" or not isinstance(header, dict) \
            or header.get("event_type") != "im.message.receive_v1" \
            or not isinstance(event, dict):
        return None
    message, sender = event.get("message"), event.get("sender")
    if not isinstance(message, dict) or not isinstance(sender, dict) \
            or message.get("chat_type") != "group" \
            or message.get("message_type") not in ("text", "image", "post") \
            or sender.get("sender_type") != "user":
        return None
    ids = sender.get("sender_id")
    open_id = ids.get("open_id") if isinstance(ids, dict) else None
    raw = message.get("content")
    try:
        content = read_json(raw) if isinstance(raw, str) else None
    except BadJson:
        return None
    text, image = _words_and_image(message.get("message_type"), content)
    if message.get("message_type") != "text" and image is None and not text:
        return None
    chat_id, message_id = message.get("chat_id"), message.get("message_id")
    if not all(isinstance(v, str) and v for v in (open_id, chat_id, message_id)) \
            or not isinstance(text, str):
        return None
    parent = message.get("parent_id")
    return IncomingMessage(
        platform=PLATFORM, chat_id=str(chat_id), message_id=str(message_id),
        user_id=str(open_id), user_name=texts.FEISHU_MEMBER_NAME.format(tail=str(open_id)[-4:]),
        text=_text_without_mentions(str(text), message.get("mentions")),
        reply_to=parent if isinstance(parent, str) and parent else None)
