"""WeCom settings: which group robot posts to which group, and the optional callback."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from bot.adapters.wecom.crypto import ENCODING_AES_KEY
from bot.settings import SettingsError

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
DEFAULT_CHAT_ID = "default"
LESSON_FORMATS = ("markdown", "text")
CHAT_LABEL = re.compile(r"[^\s,:]{1,128}")
ROBOT_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
TOKEN = re.compile(r"[A-Za-z0-9]{1,32}")


@dataclass(frozen=True)
class WeComConfig:
    """Group robots by chat id (one robot posts to one group), the API base, the callback."""

    robots: Mapping[str, str] = field(default_factory=dict, repr=False)  # chat id -> key
    api_base: str = DEFAULT_API_BASE
    token: str = field(default="", repr=False)  # the callback's Token; empty: no callback
    aes_key: str = field(default="", repr=False)  # the callback's EncodingAESKey
    receive_id: str = ""  # "" for smart robots, the CorpID for app callbacks
    lesson_format: str = "markdown"  # lessons as markdown (4096 bytes) or text (2048 bytes)

    @property
    def callback(self) -> bool:
        """Whether WeCom posts members' messages to the bot."""
        return bool(self.token)


def robot_key(variable: str, raw: str) -> str:
    """A webhook key, given bare or as the whole webhook URL the group settings show."""
    key = raw.strip()
    if key.startswith(("http://", "https://")):
        key = (parse_qs(urlsplit(key).query).get("key") or [""])[0]
    if not ROBOT_KEY.fullmatch(key):
        raise SettingsError(variable, "a group robot's webhook key (or its whole webhook URL "
                            "with ?key=…)", "…")  # a key is a password: never echoed
    return key


def _robots(env: Mapping[str, str]) -> dict[str, str]:
    robots: dict[str, str] = {}
    single = env.get("YEHUA_WECOM_WEBHOOK_KEY", "").strip()
    if single:
        label = env.get("YEHUA_WECOM_CHAT_ID", "").strip() or DEFAULT_CHAT_ID
        if not CHAT_LABEL.fullmatch(label):
            raise SettingsError("YEHUA_WECOM_CHAT_ID", "a chat id without spaces, commas or "
                                "colons", label)
        robots[label] = robot_key("YEHUA_WECOM_WEBHOOK_KEY", single)
    listed = env.get("YEHUA_WECOM_ROBOTS", "").strip()
    for item in filter(None, (part.strip() for part in listed.split(","))):
        label, colon, key = item.partition(":")
        if not colon or not CHAT_LABEL.fullmatch(label) or label in robots:
            raise SettingsError("YEHUA_WECOM_ROBOTS", "chat:key pairs separated by commas, "
                                "each chat id once, e.g. wrkSFfCgAA1:KEY1,wrkSFfCgAA2:KEY2",
                                "…")
        robots[label] = robot_key("YEHUA_WECOM_ROBOTS", key)
    return robots


def load_config(env: Mapping[str, str]) -> WeComConfig | None:
    """WeCom settings from YEHUA_WECOM_*; None when no group robot is configured."""
    robots = _robots(env)
    token = env.get("YEHUA_WECOM_TOKEN", "").strip()
    aes = env.get("YEHUA_WECOM_AES_KEY", "").strip()
    if not robots:
        if token or aes:
            raise SettingsError("YEHUA_WECOM_WEBHOOK_KEY", "a group robot's webhook key, so "
                                "the bot can answer what the WeCom callback brings", "")
        return None
    if token and not TOKEN.fullmatch(token):
        raise SettingsError("YEHUA_WECOM_TOKEN", "the callback Token: 1–32 letters or digits",
                            "…")
    if bool(token) != bool(aes):
        missing = "YEHUA_WECOM_AES_KEY" if token else "YEHUA_WECOM_TOKEN"
        raise SettingsError(missing, "set together with the other callback setting", "")
    if aes and not ENCODING_AES_KEY.fullmatch(aes):
        raise SettingsError("YEHUA_WECOM_AES_KEY", "the callback EncodingAESKey: 43 letters, "
                            "digits, + or /", "…")
    api_base = env.get("YEHUA_WECOM_API_BASE", "").strip().rstrip("/") or DEFAULT_API_BASE
    if not api_base.startswith(("http://", "https://")):
        raise SettingsError("YEHUA_WECOM_API_BASE", "an http:// or https:// URL", api_base)
    lesson_format = env.get("YEHUA_WECOM_LESSON_FORMAT", "").strip().lower() or "markdown"
    if lesson_format not in LESSON_FORMATS:
        raise SettingsError("YEHUA_WECOM_LESSON_FORMAT", "markdown or text", lesson_format)
    return WeComConfig(robots=robots, api_base=api_base, token=token, aes_key=aes,
                       receive_id=env.get("YEHUA_WECOM_RECEIVE_ID", "").strip(),
                       lesson_format=lesson_format)
