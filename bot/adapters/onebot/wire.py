"""OneBot v11 wire format: CQ codes, message segments, event parsing, signatures, errors."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from bot.core.adapter import AdapterError, RetryAfter
from bot.core.messages import IncomingMessage

PLATFORM = "onebot"
ROLES = ("owner", "admin", "member")
# Failures QQ implementations report when the account sends too fast or is under risk control
# (风控). No implementation documents a retcode for it: NapCat passes QQ's own wording through
# (retcode 200 over HTTP, 1200 over WebSocket), go-cqhttp answers SEND_MSG_API_ERROR.
FLOOD_WORDS = ("频率", "频繁", "过快", "风控", "rate limit", "too many", "SEND_MSG_API_ERROR")
TIMEOUT_WORDS = ("超时", "timeout", "timed out")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:秒|s\b|sec)")
_CQ = re.compile(r"\[CQ:([A-Za-z0-9_.\-]+)((?:,[^\]]*)?)\]")
_TEXT_ESCAPES = (("&#91;", "["), ("&#93;", "]"), ("&amp;", "&"))
_PARAM_ESCAPES = (("&#44;", ","), *_TEXT_ESCAPES)

Segment = dict[str, Any]


def unescape(text: str, *, in_param: bool = False) -> str:
    """CQ-code escapes back to characters; `&amp;` last, so `&amp;#91;` stays `&#91;`."""
    for escaped, plain in _PARAM_ESCAPES if in_param else _TEXT_ESCAPES:
        text = text.replace(escaped, plain)
    return text


def escape(text: str, *, in_param: bool = False) -> str:
    """Characters to CQ-code escapes (`&` first, so nothing is escaped twice)."""
    text = text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
    return text.replace(",", "&#44;") if in_param else text


def parse_cq(message: str) -> list[Segment]:
    """A CQ-code string as message segments: `a[CQ:at,qq=1]b` -> text, at, text."""
    segments: list[Segment] = []
    position = 0
    for match in _CQ.finditer(message):
        if match.start() > position:
            segments.append(text_segment(unescape(message[position:match.start()])))
        data: dict[str, str] = {}
        for pair in match.group(2).split(",")[1:]:
            key, _, value = pair.partition("=")
            data[key.strip()] = unescape(value, in_param=True)
        segments.append({"type": match.group(1), "data": data})
        position = match.end()
    if position < len(message):
        segments.append(text_segment(unescape(message[position:])))
    return segments


def segments_of(message: Any) -> list[Segment]:
    """The `message` of an event in whatever form it came: CQ string, array, one segment."""
    if type(message) is list:  # the usual form: the other checks need not run
        return [{"type": str(s.get("type", "")), "data": s.get("data") or {}}
                for s in message if isinstance(s, Mapping)]
    if isinstance(message, str):
        return parse_cq(message)
    if isinstance(message, Mapping):
        message = [message]
    if not isinstance(message, list):
        return []
    return [{"type": str(s.get("type", "")), "data": s.get("data") or {}}
            for s in message if isinstance(s, Mapping)]


def text_segment(text: str) -> Segment:
    return {"type": "text", "data": {"text": text}}


def reply_segment(message_id: str) -> Segment:
    return {"type": "reply", "data": {"id": message_id}}


def at_segment(user_id: str) -> Segment:
    return {"type": "at", "data": {"qq": user_id}}


def record_segment(file: str) -> Segment:
    """A voice message: `base64://…`, an http(s) URL or a file:// URI the implementation reads."""
    return {"type": "record", "data": {"file": file}}


def _id(value: Any) -> str:
    """An id as text, whether the implementation sent a number or a string."""
    if type(value) is str:  # most of them: checked first
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def is_self_message(payload: Mapping[str, Any]) -> bool:
    """The bot's own message reported back (NapCat's reportSelfMessage, `message_sent`)."""
    self_id = _id(payload.get("self_id"))
    return payload.get("post_type") == "message_sent" or (
        bool(self_id) and _id(payload.get("user_id")) == self_id)


def parse_event(payload: Mapping[str, Any]) -> IncomingMessage | None:
    """A group message event as an IncomingMessage; None for anything else or our own posts."""
    return read_event(payload)[0]


def read_event(payload: Mapping[str, Any]
               ) -> tuple[IncomingMessage | None, dict[str, str] | None, dict[str, str] | None]:
    """`parse_event`'s message with the data of its first voice and first picture segment
    (`voice_of`, `image_of`), the segments read once."""
    if payload.get("post_type") != "message" or payload.get("message_type") != "group":
        return None, None, None
    if is_self_message(payload) or payload.get("sub_type") == "notice":
        return None, None, None
    chat_id, message_id = _id(payload.get("group_id")), _id(payload.get("message_id"))
    if not chat_id or not message_id:
        return None, None, None
    segments = _segments(payload)
    text, reply_to, mentions = _flatten(segments, _id(payload.get("self_id")))
    user_id, user_name, role = _sender(payload)
    if not user_id:
        return None, None, None
    message = IncomingMessage(platform=PLATFORM, chat_id=chat_id, message_id=message_id,
                              user_id=user_id, user_name=user_name, text=text,
                              reply_to=reply_to, platform_role=role, mentions=mentions)
    return message, _first(segments, "record"), _first(segments, "image")


def voice_of(payload: Mapping[str, Any]) -> dict[str, str] | None:
    """The first voice (record) segment's data of a message event: `file`, maybe `url`."""
    return _first(_segments(payload), "record")


def image_of(payload: Mapping[str, Any]) -> dict[str, str] | None:
    """The first picture (image) segment's data of a message event: `file`, maybe `url`."""
    return _first(_segments(payload), "image")


def _segments(payload: Mapping[str, Any]) -> list[Segment]:
    raw = payload.get("message")
    return segments_of(raw if raw is not None else payload.get("raw_message", ""))


def _first(segments: list[Segment], kind: str) -> dict[str, str] | None:
    for segment in segments:
        if segment["type"] == kind:
            return {k: _id(v) for k, v in segment["data"].items() if v is not None}
    return None


def _flatten(segments: list[Segment], self_id: str
             ) -> tuple[str, str | None, tuple[str, ...]]:
    """The readable text of a message, the id of the message it quotes, and whom it @s."""
    parts: list[str] = []
    mentions: list[str] = []
    reply_to: str | None = None
    for segment in segments:
        data = segment["data"]
        match segment["type"]:
            case "text":
                parts.append(str(data.get("text", "")))
            case "reply" if reply_to is None:
                reply_to = _id(data.get("id")) or None
            case "at":
                qq = _id(data.get("qq"))
                if qq == "all":
                    parts.append("@全体成员 ")
                elif qq and qq != self_id:  # an @ to the bot only says "this is for you"
                    parts.append(f"@{_id(data.get('name')) or qq} ")
                    mentions.append(qq)
    return "".join(parts).strip(), reply_to, tuple(mentions)


def _sender(payload: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """Who sent it: user id, display name (group card first), platform role."""
    sender = payload.get("sender")
    sender = sender if isinstance(sender, Mapping) else {}
    anonymous = payload.get("anonymous")
    if payload.get("sub_type") == "anonymous" and isinstance(anonymous, Mapping):
        # Every anonymous member shares one user_id (80000000); the alias tells them apart.
        name = _id(anonymous.get("name")) or "匿名"
        return f"anonymous:{_id(anonymous.get('id')) or name}", name, None
    user_id = _id(payload.get("user_id")) or _id(sender.get("user_id"))
    name = _id(sender.get("card")) or _id(sender.get("nickname")) or user_id
    role = sender.get("role")
    return user_id, name, role if role in ROLES else None


@functools.lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    # Keyed once and copied for each body: keying anew (and finding SHA-1 by its name) costs
    # more than the hashing itself.
    return hmac.new(secret.encode(), digestmod=hashlib.sha1)


def signature(secret: str, body: bytes) -> str:
    """The X-Signature header OneBot sends: `sha1=` HMAC-SHA1 of the exact body bytes."""
    mac = _keyed(secret).copy()
    mac.update(body)
    return "sha1=" + mac.hexdigest()


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """Whether `header` signs `body` with `secret`, compared in constant time."""
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().lower().encode())


def check_response(action: str, status: int, body: Any, *, flood_pause: float,
                   retry_after: str | None = None) -> Any:
    """An API answer's `data`, or the typed exception its HTTP status or retcode means."""
    if status == 401:
        raise AdapterError(f"OneBot refused {action}: access token missing (401)")
    if status == 403:
        raise AdapterError(f"OneBot refused {action}: access token wrong (403)")
    if status == 404:
        raise AdapterError(f"OneBot does not know the action {action} (404)")
    if status == 429:
        raise RetryAfter(_seconds(retry_after or "", flood_pause))
    if status >= 500:
        raise AdapterError(f"OneBot {action}: server error {status}", transient=True)
    if status != 200 or not isinstance(body, Mapping):
        raise AdapterError(f"OneBot {action}: unexpected answer {status}: {body!r:.200}")
    if body.get("status") in ("ok", "async") and body.get("retcode") in (0, 1, None):
        return body.get("data")
    retcode = body.get("retcode")
    said = " ".join(str(body.get(k) or "") for k in ("message", "msg", "wording")).strip()
    lowered = said.lower()
    if any(word.lower() in lowered for word in FLOOD_WORDS):
        raise RetryAfter(_seconds(said, flood_pause))
    if any(word in lowered for word in TIMEOUT_WORDS):
        raise AdapterError(f"OneBot {action} timed out: {said}", transient=True)
    if "语音转换失败" in said:
        raise AdapterError(f"OneBot could not convert the voice (is ffmpeg installed where "
                           f"NapCat runs?): retcode {retcode}: {said}")
    raise AdapterError(f"OneBot {action} failed: retcode {retcode}: {said or 'no reason given'}")


def _seconds(text: str, default: float) -> float:
    """A wait the platform named (`Retry-After: 3`, 「请10秒后再试」), else `default`."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    match = _SECONDS.search(text)
    return float(match.group(1)) if match else default


