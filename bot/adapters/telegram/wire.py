"""Telegram's wire format as pure functions: updates to events, errors to exceptions, texts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.core.adapter import AdapterError, RetryAfter
from bot.core.messages import IncomingMessage

PLATFORM = "telegram"
MAX_TEXT = 4096  # UTF-16 code units, counted after entity parsing
MAX_CAPTION = 1024
GROUP_TYPES = {"group", "supergroup"}
CHAT_ROLES = {"creator": "owner", "administrator": "admin", "member": "member",
              "restricted": "member"}
SENTENCE_END = re.compile(r"[。！？!?…]+[”’」』）)\"']*")
_COMMAND_HEAD = re.compile(r"(\s*[/／][^\s@＠]*)[@＠]([A-Za-z0-9_]{1,64})")


class ChatMigrated(AdapterError):
    """The group became a supergroup with a new id; sending again to the new id will work."""

    def __init__(self, old_chat_id: str, new_chat_id: str) -> None:
        super().__init__(f"chat {old_chat_id} moved to {new_chat_id}", transient=True)
        self.old_chat_id = old_chat_id
        self.new_chat_id = new_chat_id


@dataclass(frozen=True, slots=True)
class VoiceNote:
    """A voice message's file, as an update names it, before it is downloaded."""

    file_id: str
    duration: float
    size: int | None


def check_response(status: int, body: object, *, chat_id: str = "") -> Any:
    """The `result` of a Bot API answer, or the typed exception its error stands for."""
    if isinstance(body, dict) and body.get("ok") is True and "result" in body:
        return body["result"]
    if not isinstance(body, dict):
        raise AdapterError(f"Telegram answered HTTP {status} without JSON",
                           transient=status >= 500 or status == 429)
    code = body.get("error_code", status)
    description = str(body.get("description", "no description"))
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    assert isinstance(parameters, dict)
    retry_after = parameters.get("retry_after")
    if retry_after is not None:  # 0 is a valid answer too, and falsy
        raise RetryAfter(float(retry_after))
    moved = parameters.get("migrate_to_chat_id")
    if moved is not None:
        raise ChatMigrated(chat_id, str(moved))
    code = code if isinstance(code, int) else status
    transient = code >= 500 or code == 429 or status >= 500
    raise AdapterError(f"Telegram error {code}: {description}", transient=transient)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut(window: str) -> int:
    """Where to end a piece inside `window`: a sentence end, else a newline, else its end."""
    half = len(window) // 2
    ends = [m.end() for m in SENTENCE_END.finditer(window)]
    newline = window.rfind("\n") + 1
    for candidates in ([e for e in ends if e >= half], [newline] if newline > half else [],
                       ends, [newline] if newline else []):
        if candidates:
            return max(candidates)
    return len(window)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at sentence ends (。！？) then newlines."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[: _fits(rest, limit)]
        end = _cut(window)
        pieces.append(rest[:end])
        rest = rest[end:]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def trim_caption(caption: str, limit: int = MAX_CAPTION) -> str:
    """A caption within Telegram's limit, with an ellipsis when cut."""
    if utf16_len(caption) <= limit:
        return caption
    return caption[: _fits(caption, limit - 1)] + "…"


def strip_own_name(text: str, bot_name: str) -> str:
    """`/帮助@yehua_bot 参数` -> `/帮助 参数` when the command names this bot; else unchanged."""
    match = _COMMAND_HEAD.match(text)
    if not bot_name or match is None or match.group(2).lower() != bot_name.lower():
        return text
    return match.group(1) + text[match.end():]


def names_another_bot(text: str, bot_name: str) -> bool:
    """`/帮助@other_bot`: a command for another bot in the same group, not ours to answer."""
    match = _COMMAND_HEAD.match(text)
    return bool(bot_name) and match is not None and match.group(2).lower() != bot_name.lower()


def is_command(text: str) -> bool:
    """Whether a message is a chat command (where the platform role matters)."""
    return text.lstrip().startswith(("/", "／"))


def chat_role(status: object) -> str | None:
    """A ChatMember status as our platform role: creator -> owner, administrator -> admin."""
    return CHAT_ROLES.get(status) if isinstance(status, str) else None


def _name(user: dict[str, Any]) -> str:
    parts = (user.get("first_name"), user.get("last_name"))
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def migration(update: dict[str, Any]) -> tuple[str, str] | None:
    """(old chat id, new chat id) when an update says a group became a supergroup."""
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None
    chat_id = message["chat"].get("id")
    if isinstance(message.get("migrate_to_chat_id"), int) and isinstance(chat_id, int):
        return str(chat_id), str(message["migrate_to_chat_id"])
    if isinstance(message.get("migrate_from_chat_id"), int) and isinstance(chat_id, int):
        return str(message["migrate_from_chat_id"]), str(chat_id)
    return None


def voice_note(update: dict[str, Any]) -> VoiceNote | None:
    """The voice message an update carries, if any."""
    message = update.get("message")
    voice = message.get("voice") if isinstance(message, dict) else None
    if not isinstance(voice, dict) or not isinstance(voice.get("file_id"), str):
        return None
    duration = voice.get("duration")
    size = voice.get("file_size")
    return VoiceNote(voice["file_id"], float(duration) if isinstance(duration, int | float) else 0,
                     size if isinstance(size, int) else None)


@dataclass(frozen=True, slots=True)
class PhotoFile:
    """The largest size of a photo an update carries, before it is downloaded."""

    file_id: str
    size: int | None


def photo_file(update: dict[str, Any]) -> PhotoFile | None:
    """The photo an update carries, at the largest size Telegram made of it, if any."""
    message = update.get("message")
    sizes = message.get("photo") if isinstance(message, dict) else None
    if not isinstance(sizes, list):
        return None
    usable = [s for s in sizes if isinstance(s, dict) and isinstance(s.get("file_id"), str)]
    if not usable:
        return None
    # Listed smallest first; the pixel count says which is largest should the order differ.
    largest = max(usable, key=lambda s: (_whole(s.get("width")) * _whole(s.get("height")),
                                         _whole(s.get("file_size"))))
    size = largest.get("file_size")
    return PhotoFile(largest["file_id"], size if isinstance(size, int) else None)


def album_of(update: dict[str, Any]) -> str | None:
    """The media_group_id of a photo sent as part of an album, if it is one."""
    message = update.get("message")
    album = message.get("media_group_id") if isinstance(message, dict) else None
    return album if isinstance(album, str) and album else None


def _whole(value: object) -> int:
    return value if isinstance(value, int) else 0


def parse_update(payload: dict[str, Any], bot_name: str = "") -> IncomingMessage | None:
    """A person's group message in an Update as an event; None for anything else."""
    message = payload.get("message")
    if not isinstance(message, dict):
        return None  # edits, channel posts, member changes: nothing to act on
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), int):
        return None
    if message.get("is_automatic_forward") or message.get("migrate_to_chat_id"):
        return None
    text = message.get("text", message.get("caption", ""))
    if not isinstance(text, str) or not isinstance(message.get("message_id"), int):
        return None
    if not text.strip() and voice_note(payload) is None and photo_file(payload) is None:
        return None
    role: str | None = None
    sender_chat = message.get("sender_chat")
    if isinstance(sender_chat, dict) and isinstance(sender_chat.get("id"), int):
        # Sent as the group itself (an anonymous admin) or as a linked channel.
        user_id, user_name = str(sender_chat["id"]), str(sender_chat.get("title", ""))
        if sender_chat["id"] == chat["id"]:
            role = "admin"
            user_name = str(message.get("author_signature") or user_name)
    elif isinstance(sender, dict) and isinstance(sender.get("id"), int):
        if sender.get("is_bot"):
            return None
        user_id, user_name = str(sender["id"]), _name(sender) or str(sender.get("username", ""))
    else:
        return None
    if names_another_bot(text, bot_name):
        return None
    return IncomingMessage(platform=PLATFORM, chat_id=str(chat["id"]),
                           message_id=str(message["message_id"]), user_id=user_id,
                           user_name=user_name, text=strip_own_name(text, bot_name),
                           reply_to=_replied(message), platform_role=role,
                           replied_text=_bots_words(message), mentions=_mentioned(message))


def _bots_words(message: dict[str, Any]) -> str | None:
    """The text of the bot message this one replies to (Telegram sends it along), if any."""
    original = message.get("reply_to_message")
    if not isinstance(original, dict) or not isinstance(original.get("from"), dict) \
            or not original["from"].get("is_bot"):
        return None
    words = original.get("text", original.get("caption"))
    return words if isinstance(words, str) and words else None


def _mentioned(message: dict[str, Any]) -> tuple[str, ...]:
    """The users a message names by a text_mention (people without a username)."""
    entities = message.get("entities", message.get("caption_entities"))
    found: list[str] = []
    for entity in entities if isinstance(entities, list) else []:
        user = entity.get("user") if isinstance(entity, dict) else None
        if entity.get("type") == "text_mention" and isinstance(user, dict) \
                and isinstance(user.get("id"), int) and not user.get("is_bot"):
            found.append(str(user["id"]))
    return tuple(found)


def _replied(message: dict[str, Any]) -> str | None:
    original = message.get("reply_to_message")
    if not isinstance(original, dict) or not isinstance(original.get("message_id"), int):
        return None
    # In a forum topic every message "replies" to the topic's first message: not a real reply.
    if message.get("is_topic_message") and original["message_id"] == message.get(
            "message_thread_id"):
        return None
    return str(original["message_id"])


def username_of(update: dict[str, Any]) -> tuple[str, str] | None:
    """(user id, @username) of the sender, when the sender has a username."""
    message = update.get("message")
    sender = message.get("from") if isinstance(message, dict) else None
    if isinstance(sender, dict) and isinstance(sender.get("id"), int) \
            and isinstance(sender.get("username"), str) and sender["username"]:
        return str(sender["id"]), sender["username"]
    return None
