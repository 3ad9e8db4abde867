"""OneBot v11 settings: YEHUA_ONEBOT_* read from the environment, checked at start-up."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.settings import SettingsError, boolean, http_url, read_setting, storage_retry_seconds

T = TypeVar("T")

PREFIX = "YEHUA_ONEBOT_"
TOKEN = "YEHUA_ONEBOT_ACCESS_TOKEN"
ALLOW_NO_TOKEN = "YEHUA_ONEBOT_ALLOW_NO_TOKEN"
# Any of these set means the platform is meant to be on (optional knobs alone do not count).
SWITCHES = ("YEHUA_ONEBOT_API_ROOT", TOKEN, "YEHUA_ONEBOT_SECRET", "YEHUA_ONEBOT_SELF_ID")
VOICE_MODES = ("base64", "url")
TOKEN_EXPECTED = (
    "a non-empty access token, the same one NapCat/Lagrange is configured with: on 2025-09-05 "
    "OneBot endpoints left open without a token were hijacked to post illegal content into "
    f"QQ groups. Only if both sides are on a closed network, set {ALLOW_NO_TOKEN}=true")


@dataclass(frozen=True)
class OneBotConfig:
    """How to reach the OneBot implementation (NapCat, Lagrange) and how to trust it."""

    access_token: str
    api_root: str = ""  # its HTTP API, e.g. http://127.0.0.1:3000; empty: reverse WS only
    secret: str = ""  # the HMAC key signing HTTP POST events (X-Signature)
    self_id: str = ""  # the bot's QQ number; set: other accounts are refused
    allow_no_token: bool = False
    voice: str = "base64"  # record segments carry the MP3 itself, or a URL under /media/
    timeout: float = 30.0  # seconds one API call may take (voice goes through ffmpeg)
    sends_per_second: float = 5.0
    flood_pause: float = 5.0  # seconds every send waits after QQ says "too fast"
    retry_window: float = 120.0  # seconds an event is written again while storage fails


def _qq(raw: str) -> str:
    if not raw.isascii() or not raw.isdigit():
        raise ValueError(raw)
    return raw


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if raw.lower() not in choices:
            raise ValueError(raw)
        return raw.lower()

    return check


def _positive(raw: str) -> float:
    value = float(raw)
    if not 0 < value < math.inf:
        raise ValueError(raw)
    return value


def load_config(env: Mapping[str, str]) -> OneBotConfig | None:
    """The OneBot settings, or None when none of its credentials is set (platform off)."""
    allow = read_setting(env, ALLOW_NO_TOKEN, False, boolean, "true or false")
    if not allow and not any(env.get(name, "").strip() for name in SWITCHES):
        return None
    token = env.get(TOKEN, "").strip()
    if not token and not allow:
        raise SettingsError(TOKEN, TOKEN_EXPECTED, "")
    d = OneBotConfig(access_token="")
    return OneBotConfig(
        access_token=token,
        api_root=read_setting(env, "YEHUA_ONEBOT_API_ROOT", d.api_root, http_url,
                       "the http:// URL of NapCat's HTTP server, e.g. http://127.0.0.1:3000"),
        secret=env.get("YEHUA_ONEBOT_SECRET", "").strip(),
        self_id=read_setting(env, "YEHUA_ONEBOT_SELF_ID", d.self_id, _qq, "the bot's QQ number"),
        allow_no_token=allow,
        voice=read_setting(env, "YEHUA_ONEBOT_VOICE", d.voice, _choice(VOICE_MODES),
                    "base64 or url"),
        timeout=read_setting(env, "YEHUA_ONEBOT_TIMEOUT", d.timeout, _positive,
                      "a number of seconds > 0"),
        sends_per_second=read_setting(env, "YEHUA_ONEBOT_SENDS_PER_SECOND", d.sends_per_second,
                               _positive, "a number of messages per second > 0"),
        flood_pause=read_setting(env, "YEHUA_ONEBOT_FLOOD_PAUSE", d.flood_pause, _positive,
                          "a number of seconds > 0"),
        retry_window=storage_retry_seconds(env),
    )
