"""WeCom message shapes: callbacks parsed into events, texts split into robot messages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from bot.adapters.splitting import split_text, utf8_len
from bot.core.messages import IncomingMessage, OutgoingText

PLATFORM = "wecom"
TEXT_LIMIT = 2048  # bytes of UTF-8, as WeCom counts
MARKDOWN_LIMIT = 4096
_LEADING_MENTION = re.compile(r"\A\s*[@＠]\S*\s*")
_HEADLINE_BYTES = 200
_UNSAFE_XML = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def split_by_bytes(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut at sentence ends where possible."""
    return split_text(text, limit, utf8_len)


def _markdown_headline(text: str) -> str:
    """Bold the first line (the lesson's 【微党课】 headline) when it is a short one."""
    first, newline, rest = text.partition("\n")
    if newline and first.strip() and utf8_len(first) <= _HEADLINE_BYTES and "*" not in first:
        return f"**{first.strip()}**\n{rest}"
    return text


def text_bodies(message: OutgoingText, *, markdown: bool, mention: str | None
                ) -> list[dict[str, Any]]:
    """The webhook bodies for one text: markdown for lessons when asked, else text with the
    @-mention on the first piece (mentions are userids; markdown cannot notify them)."""
    if markdown and mention is None:
        return [{"msgtype": "markdown", "markdown": {"content": piece}}
                for piece in split_by_bytes(_markdown_headline(message.text), MARKDOWN_LIMIT)]
    bodies: list[dict[str, Any]] = []
    for index, piece in enumerate(split_by_bytes(message.text, TEXT_LIMIT)):
        text: dict[str, Any] = {"content": piece}
        if mention is not None and index == 0:
            text["mentioned_list"] = [mention]
        bodies.append({"msgtype": "text", "text": text})
    return bodies


def _robot_text(payload: Mapping[str, Any]) -> str | None:
    kind = payload.get("msgtype")
    if kind in ("text", "voice"):  # a smart robot's voice arrives already as text
        part = payload.get(kind)
        content = part.get("content") if isinstance(part, Mapping) else None
        return content if isinstance(content, str) else None
    if kind == "mixed":
        mixed = payload.get("mixed")
        items = mixed.get("msg_item") if isinstance(mixed, Mapping) else None
        if not isinstance(items, list):
            return None
        texts = [_robot_text(item) for item in items if isinstance(item, Mapping)]
        return "\n".join(t for t in texts if t) or None
    return None  # images, files, events and stream refreshes carry no text for us


def robot_picture(payload: Mapping[str, Any]) -> str | None:
    """The download URL of the first picture a smart robot's message carries (encrypted with
    the callback's key), alone or among the items of a mixed message."""
    kind = payload.get("msgtype")
    if kind == "image":
        image = payload.get("image")
        url = image.get("url") if isinstance(image, Mapping) else None
        return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
    if kind == "mixed":
        mixed = payload.get("mixed")
        items = mixed.get("msg_item") if isinstance(mixed, Mapping) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping) and (url := robot_picture(item)) is not None:
                return url
    return None


def app_picture(fields: Mapping[str, str]) -> str | None:
    """The PicUrl of a self-built app's image message (served plain, not encrypted)."""
    url = fields.get("PicUrl", "") if fields.get("MsgType") == "image" else ""
    return url if url.startswith(("http://", "https://")) else None


def parse_robot_message(payload: Mapping[str, Any]) -> IncomingMessage | None:
    """A smart robot's decrypted callback JSON as an event; None if it carries no text."""
    sender = payload.get("from")
    user_id = sender.get("userid") if isinstance(sender, Mapping) else None
    message_id = payload.get("msgid")
    text = _robot_text(payload)
    if not isinstance(user_id, str) or not user_id or not isinstance(message_id, str):
        return None
    if text is None and robot_picture(payload) is None:
        return None
    text = text or ""
    chat_id = payload.get("chatid") if payload.get("chattype") == "group" else user_id
    if not isinstance(chat_id, str) or not chat_id:
        return None
    # In a group the robot only hears @-mentions: the text starts with "@机器人名".
    text = _LEADING_MENTION.sub("", text, count=1).strip()
    return IncomingMessage(platform=PLATFORM, chat_id=chat_id, message_id=message_id,
                           user_id=user_id, user_name=user_id, text=text)


def xml_fields(xml: str) -> dict[str, str]:
    """The child elements of a flat WeCom XML document; ValueError if it is not one."""
    if _UNSAFE_XML.search(xml):
        raise ValueError("XML with a DOCTYPE or entities is refused")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML: {exc}") from exc
    return {child.tag: (child.text or "") for child in root}


def parse_app_message(xml: str) -> IncomingMessage | None:
    """A self-built app's decrypted callback XML as an event; None unless it is text.

    App messages come from one member to the app, not from a group: they count as the
    messages of the chat whose id is the app's AgentID."""
    fields = xml_fields(xml)
    if fields.get("MsgType") != "text" and app_picture(fields) is None:
        return None
    user_id, message_id = fields.get("FromUserName", ""), fields.get("MsgId", "")
    agent = fields.get("AgentID", "").strip()
    if not user_id or not message_id or not agent:
        return None
    return IncomingMessage(platform=PLATFORM, chat_id=agent, message_id=message_id,
                           user_id=user_id, user_name=user_id,
                           text=fields.get("Content", "").strip())
