"""Telegram's settings: YEHUA_TELEGRAM_* read from the environment mapping the app passes."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.settings import SettingsError, boolean, http_url, matching

T = TypeVar("T")

DEFAULT_API_BASE = "https://api.telegram.org"
TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,128}")
BOT_NAME = re.compile(r"[A-Za-z0-9_]{3,64}")
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class TelegramConfig:
    """How to reach the Bot API and how updates come in (long polling unless a webhook)."""

    token: str
    api_base: str = DEFAULT_API_BASE
    bot_name: str = ""  # without the @; learned with getMe when empty
    webhook: bool = False
    webhook_secret: str = ""
    poll_timeout: int = 30

    def __repr__(self) -> str:  # the token is a password: keep it out of logs
        return (f"TelegramConfig(api_base={self.api_base!r}, bot_name={self.bot_name!r}, "
                f"webhook={self.webhook})")

    @property
    def secret(self) -> str:
        """The webhook's secret token: the configured one, else one derived from the bot token.

        Derived, so every restart and every instance registers the same secret, and nobody
        without the bot token can compute it.
        """
        if self.webhook_secret:
            return self.webhook_secret
        return hmac.new(self.token.encode(), b"yehua telegram webhook", hashlib.sha256).hexdigest()


def _get(env: Mapping[str, str], name: str, convert: Callable[[str], T], expected: str,
         default: T, *, shown: Callable[[str], str] = lambda raw: raw) -> T:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return convert(raw)
    except ValueError as exc:
        raise SettingsError(name, expected, shown(raw)) from exc


def _poll_timeout(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 50:
        raise ValueError(raw)
    return value


def _masked(raw: str) -> str:
    return raw.split(":", 1)[0] + ":…" if ":" in raw else "…"


def load_config(env: Mapping[str, str]) -> TelegramConfig | None:
    """Telegram's settings, or None when YEHUA_TELEGRAM_TOKEN is not set (Telegram is off)."""
    token = _get(env, "YEHUA_TELEGRAM_TOKEN", matching(TOKEN),
                 "a bot token from @BotFather such as 123456789:AAH…", "", shown=_masked)
    if not token:
        return None
    secret = _get(env, "YEHUA_TELEGRAM_WEBHOOK_SECRET", matching(SECRET),
                  "1–256 characters of A-Z, a-z, 0-9, _ and -", "", shown=lambda _r: "…")
    return TelegramConfig(
        token=token,
        api_base=_get(env, "YEHUA_TELEGRAM_API_BASE", http_url,
                      "an http:// or https:// URL such as https://api.telegram.org",
                      DEFAULT_API_BASE),
        bot_name=_get(env, "YEHUA_TELEGRAM_BOT_NAME", lambda raw: matching(BOT_NAME)(
            raw.removeprefix("@")), "the bot's username such as yehua_bot", ""),
        webhook=_get(env, "YEHUA_TELEGRAM_WEBHOOK", boolean, "true or false", bool(secret)),
        webhook_secret=secret,
        poll_timeout=_get(env, "YEHUA_TELEGRAM_POLL_TIMEOUT", _poll_timeout,
                          "a whole number of seconds from 1 to 50", 30),
    )
