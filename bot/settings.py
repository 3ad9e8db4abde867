"""Settings read once from the environment; a bad value stops start-up with a clear message."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T")

PROSODY_PERCENT = re.compile(r"^[+-]\d{1,3}%$")
PROSODY_HZ = re.compile(r"^[+-]\d{1,3}Hz$")
CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}")
DATABASE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+]*://.*")
DEFAULT_LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons" / "library"


class SettingsError(ValueError):
    """A setting has a value the bot cannot use; the message names the variable."""

    def __init__(self, variable: str, expected: str, got: str) -> None:
        super().__init__(f"{variable}={got!r} is not valid: expected {expected}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    data_dir: Path = Path("data")
    database_url: str = ""
    host: str = "127.0.0.1"
    public_url: str = ""  # where platforms and phones reach /media; default: host and port
    port: int = 8080
    timezone: str = "Asia/Shanghai"
    lessons_dir: Path = DEFAULT_LESSONS_DIR
    log_level: str = "INFO"
    uvloop: bool = True  # the faster event loop, when it is installed (pip install yehua[fast])
    demo: bool = True
    demo_delay: int = 30
    grace_minutes: int = 30
    claim_lease_seconds: int = 30  # PostgreSQL: an unrenewed lesson claim is taken over after it
    # More acknowledgements of suggestions than this waiting in one chat go out as one message.
    reply_backlog: int = 5
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-For counts
    prerender_hours: int = 12
    tts_endpoint: str = ""
    tts_voice: str = ""  # empty: each speech profile's own voice
    tts_rate: str = "-10%"
    tts_volume: str = "+15%"
    tts_pitch: str = "-2Hz"
    tts_timeout: float = 60.0
    tts_concurrency: int = 2
    espeak: bool = True
    flavour: bool = True
    flavour_in_process: bool = False  # segment here instead of in a flavour worker (+130 MB)
    points_listen: int = 1
    points_suggest: int = 2
    points_adopted: int = 5
    points_top: int = 10  # names on each posted ranking
    points_bottom: int = 0  # the last names too, as some villages publish; 0: never
    handler_days: int = 7  # an assigned suggestion's deadline when none is typed
    webchat_messages: int = 5  # per member and per socket within webchat_window seconds
    webchat_window: int = 10
    webchat_suggestions_per_day: int = 10
    webchat_points_per_day: int = 20
    webchat_voices_per_day: int = 30
    webchat_voice_quota_mb: int = 1024
    webchat_voice_days: int = 90
    webchat_new_ids_per_hour: int = 20
    photos_per_day: int = 10  # photos one member may attach a day, on every platform
    backup_dir: Path | None = None  # where backups go; default: the data folder's backups/
    backup_keep: int = 7  # nightly backups kept; 0 turns the nightly backup off
    backup_at: time = time(3, 30)  # local time (YEHUA_TIMEZONE) of the nightly backup
    db_busy_timeout_ms: int = 5000  # how long a write waits for another writer's lock
    storage_retry_seconds: float = 120.0  # how long an event no platform resends is retried
    extra: dict[str, str] = field(default_factory=dict)
    speech_server: SpeechServerSettings = field(default_factory=lambda: SpeechServerSettings())
    asr: AsrSettings = field(default_factory=lambda: AsrSettings())

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or SQLite in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'yehua.db'}"

    @property
    def base_url(self) -> str:
        """The public URL of this bot: YEHUA_PUBLIC_URL, or where it listens."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @property
    def backups(self) -> Path:
        """Where `yehua backup` and the nightly backup write: YEHUA_BACKUP_DIR or data/backups."""
        return self.backup_dir or self.data_dir / "backups"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def read_setting(env: Mapping[str, str], name: str, default: T, convert: Callable[[str], T],
                 expected: str, *, secret: bool = False) -> T:
    """One variable converted, its default when unset or blank; SettingsError names it.

    A `secret` value (it may hold a password) is not repeated in the error.
    """
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except (ValueError, TypeError) as exc:
        raise SettingsError(name, expected, "…" if secret else raw) from exc


def boolean(raw: str) -> bool:
    """true/false, yes/no, on/off, 1/0."""
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError(raw)
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


def _at_least_one(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


def positive_float(raw: str) -> float:
    """A finite number above zero."""
    value = float(raw)
    if not 0 < value < math.inf:
        raise ValueError(raw)
    return value


def _networks(raw: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        ipaddress.ip_network(network, strict=False)  # ValueError: not an address or network
    return networks


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(raw) from exc
    return raw


def matching(pattern: re.Pattern[str]) -> Callable[[str], str]:
    """A converter accepting only values that match `pattern`."""
    def check(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ValueError(raw)
        return raw

    return check


def _ws_url(raw: str) -> str:
    if not raw.startswith(("ws://", "wss://")):
        raise ValueError(raw)
    return raw


def http_url(raw: str) -> str:
    """An http(s) URL without its trailing slash."""
    if not raw.startswith(("http://", "https://")):
        raise ValueError(raw)
    return raw.rstrip("/")


def _clock_time(raw: str) -> time:
    if not CLOCK_TIME.fullmatch(raw):
        raise ValueError(raw)
    hours, minutes = raw.split(":")
    return time(int(hours), int(minutes))


def _log_level(raw: str) -> str:
    value = raw.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError(raw)
    return value


def storage_retry_seconds(env: Mapping[str, str]) -> float:
    """YEHUA_STORAGE_RETRY_SECONDS: how long an event the platform never sends again is kept
    and written again while the bot's storage fails (OneBot, DingTalk, the web chat)."""
    return read_setting(env, "YEHUA_STORAGE_RETRY_SECONDS", Settings.storage_retry_seconds,
                        positive_float, "a number of seconds > 0")


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping, raising SettingsError on the first bad value."""
    d = Settings()

    def read(name: str, default: T, convert: Callable[[str], T], expected: str, *,
             secret: bool = False) -> T:
        return read_setting(env, name, default, convert, expected, secret=secret)

    extra = {k: v for k, v in env.items() if k.startswith("YEHUA_")}
    return Settings(
        data_dir=read("YEHUA_DATA_DIR", d.data_dir, Path, "a folder path"),
        database_url=read("YEHUA_DATABASE_URL", d.database_url, matching(DATABASE_URL),
                           "an SQLAlchemy URL such as postgresql+psycopg://user@host/db",
                           secret=True),
        host=read("YEHUA_HOST", d.host, str, "a host name or IP address"),
        port=read("YEHUA_PORT", d.port, _port, "a port number 0–65535"),
        public_url=read("YEHUA_PUBLIC_URL", d.public_url, http_url,
                         "an http:// or https:// URL such as https://yehua.example.cn"),
        timezone=read("YEHUA_TIMEZONE", d.timezone, _zone,
                       "an IANA time zone such as Asia/Shanghai"),
        lessons_dir=read("YEHUA_LESSONS_DIR", d.lessons_dir, Path, "a folder path"),
        log_level=read("YEHUA_LOG_LEVEL", d.log_level, _log_level,
                        "DEBUG, INFO, WARNING or ERROR"),
        uvloop=read("YEHUA_UVLOOP", d.uvloop, boolean, "true or false"),
        demo=read("YEHUA_DEMO", d.demo, boolean, "true or false"),
        demo_delay=read("YEHUA_DEMO_DELAY", d.demo_delay, _positive_int,
                         "a whole number of seconds ≥ 0"),
        grace_minutes=read("YEHUA_GRACE_MINUTES", d.grace_minutes, _positive_int,
                            "a whole number of minutes ≥ 0"),
        trusted_proxies=read("YEHUA_TRUSTED_PROXIES", d.trusted_proxies, _networks,
                             "IP addresses or networks separated by commas, e.g. 10.0.0.10"),
        claim_lease_seconds=read("YEHUA_CLAIM_LEASE_SECONDS", d.claim_lease_seconds,
                                 _at_least_one, "a whole number of seconds ≥ 1"),
        reply_backlog=read("YEHUA_REPLY_BACKLOG", d.reply_backlog, _at_least_one,
                           "a whole number ≥ 1"),
        prerender_hours=read("YEHUA_PRERENDER_HOURS", d.prerender_hours, _positive_int,
                              "a whole number of hours ≥ 0"),
        tts_endpoint=read("YEHUA_TTS_ENDPOINT", d.tts_endpoint, _ws_url,
                           "a websocket URL starting with ws:// or wss://"),
        tts_voice=read("YEHUA_TTS_VOICE", d.tts_voice, str,
                        "an edge-tts voice such as zh-CN-YunyangNeural"),
        tts_rate=read("YEHUA_TTS_RATE", d.tts_rate, matching(PROSODY_PERCENT),
                       "a signed percentage such as -10%"),
        tts_volume=read("YEHUA_TTS_VOLUME", d.tts_volume, matching(PROSODY_PERCENT),
                         "a signed percentage such as +15%"),
        tts_pitch=read("YEHUA_TTS_PITCH", d.tts_pitch, matching(PROSODY_HZ),
                        "a signed pitch in Hz such as -2Hz"),
        tts_timeout=read("YEHUA_TTS_TIMEOUT", d.tts_timeout, positive_float,
                          "a number of seconds > 0"),
        tts_concurrency=read("YEHUA_TTS_CONCURRENCY", d.tts_concurrency, _at_least_one,
                              "a whole number ≥ 1"),
        espeak=read("YEHUA_ESPEAK", d.espeak, boolean, "true or false"),
        flavour=read("YEHUA_FLAVOUR", d.flavour, boolean, "true or false"),
        flavour_in_process=read("YEHUA_FLAVOUR_IN_PROCESS", d.flavour_in_process, boolean,
                                "true or false"),
        points_listen=read("YEHUA_POINTS_LISTEN", d.points_listen, _positive_int,
                            "a whole number of points ≥ 0"),
        points_suggest=read("YEHUA_POINTS_SUGGEST", d.points_suggest, _positive_int,
                             "a whole number of points ≥ 0"),
        points_adopted=read("YEHUA_POINTS_ADOPTED", d.points_adopted, _positive_int,
                             "a whole number of points ≥ 0"),
        points_top=read("YEHUA_POINTS_TOP", d.points_top, _at_least_one,
                        "a whole number of names ≥ 1"),
        points_bottom=read("YEHUA_POINTS_BOTTOM", d.points_bottom, _positive_int,
                           "a whole number of names ≥ 0 (0: no bottom list)"),
        handler_days=read("YEHUA_HANDLER_DAYS", d.handler_days, _at_least_one,
                          "a whole number of days ≥ 1"),
        webchat_messages=read("YEHUA_WEBCHAT_MESSAGES", d.webchat_messages, _positive_int,
                              "a whole number of messages ≥ 0 (0: no limit)"),
        webchat_window=read("YEHUA_WEBCHAT_WINDOW", d.webchat_window, _at_least_one,
                            "a whole number of seconds ≥ 1"),
        webchat_suggestions_per_day=read(
            "YEHUA_WEBCHAT_SUGGESTIONS_PER_DAY", d.webchat_suggestions_per_day, _positive_int,
            "a whole number of suggestions ≥ 0 (0: no limit)"),
        webchat_points_per_day=read("YEHUA_WEBCHAT_POINTS_PER_DAY", d.webchat_points_per_day,
                                    _positive_int, "a whole number of points ≥ 0 (0: no limit)"),
        webchat_voices_per_day=read("YEHUA_WEBCHAT_VOICES_PER_DAY", d.webchat_voices_per_day,
                                    _positive_int,
                                    "a whole number of voice messages ≥ 0 (0: no limit)"),
        webchat_voice_quota_mb=read(
            "YEHUA_WEBCHAT_VOICE_QUOTA_MB", d.webchat_voice_quota_mb, _positive_int,
            "a whole number of megabytes ≥ 0 (0: no limit)"),
        webchat_voice_days=read("YEHUA_WEBCHAT_VOICE_DAYS", d.webchat_voice_days, _positive_int,
                                "a whole number of days ≥ 0 (0: keep voices forever)"),
        webchat_new_ids_per_hour=read(
            "YEHUA_WEBCHAT_NEW_IDS_PER_HOUR", d.webchat_new_ids_per_hour, _positive_int,
            "a whole number of new members ≥ 0 (0: no limit)"),
        photos_per_day=read("YEHUA_PHOTOS_PER_DAY", d.photos_per_day, _positive_int,
                            "a whole number of photos ≥ 0 (0: no limit)"),
        backup_dir=read("YEHUA_BACKUP_DIR", d.backup_dir, Path, "a folder path"),
        backup_keep=read("YEHUA_BACKUP_KEEP", d.backup_keep, _positive_int,
                          "a whole number of nightly backups to keep ≥ 0 (0: none)"),
        backup_at=read("YEHUA_BACKUP_AT", d.backup_at, _clock_time,
                        "a time of day such as 03:30"),
        db_busy_timeout_ms=read("YEHUA_DB_BUSY_TIMEOUT_MS", d.db_busy_timeout_ms, _positive_int,
                                "a whole number of milliseconds ≥ 0"),
        storage_retry_seconds=storage_retry_seconds(env),
        extra=extra,
        speech_server=speech_server_settings(env),
        asr=asr_settings(env),
    )


# A self-hosted speech server's instruction text for each dialect profile, unless
# YEHUA_TTS_SERVER_INSTRUCTIONS says otherwise.
DEFAULT_SERVER_INSTRUCTIONS: dict[str, str] = {
    "普通话": "用标准普通话说，语速稍慢，语气沉稳亲切。",
    "湘": "用湖南长沙话说，语速稍慢，语气亲切。",
    "东北": "用东北话说，语速稍慢，语气亲切。",
    "陕西": "用陕西关中话说，语速稍慢，语气亲切。",
    "粤": "用广州话说，语速稍慢，语气亲切。",
    "台": "用台湾腔普通话说，语速稍慢，语气亲切。",
}


@dataclass(frozen=True)
class SpeechServerSettings:
    """A self-hosted speech server with an OpenAI-compatible API, and the profiles using it."""

    url: str = ""  # base URL ending in /v1; empty: no server
    model: str = ""
    voice: str = ""
    api_key: str = field(default="", repr=False)
    profiles: tuple[str, ...] = ()
    instructions: dict[str, str] = field(default_factory=dict)  # profile -> instruction text
    timeout: float = 60.0


@dataclass(frozen=True)
class AsrSettings:
    """A transcription server with an OpenAI-compatible API, for voice suggestions."""

    url: str = ""  # base URL ending in /v1; empty: voice suggestions are not transcribed
    model: str = ""
    api_key: str = field(default="", repr=False)
    language: str = "zh"
    timeout: float = 30.0


def _profile_names(raw: str) -> tuple[str, ...]:
    from lessons.profiles import PROFILES

    names = tuple(n.strip() for n in re.split(r"[,，、]", raw) if n.strip())
    if not names or any(name not in PROFILES for name in names):
        raise ValueError(raw)
    return names


def _instructions(raw: str) -> dict[str, str]:
    from lessons.profiles import PROFILES

    out: dict[str, str] = {}
    for item in re.split(r"[;；]", raw):
        if not item.strip():
            continue
        name, sep, text = item.partition("=")
        if not sep or name.strip() not in PROFILES:
            raise ValueError(raw)
        out[name.strip()] = text.strip()
    return out


def _required_with(env: Mapping[str, str], name: str, url_variable: str, expected: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(name, f"{expected} (needed with {url_variable})", value)
    return value


def speech_server_settings(env: Mapping[str, str]) -> SpeechServerSettings:
    """The YEHUA_TTS_SERVER_* settings; the model and voice are needed when a URL is set."""
    d = SpeechServerSettings()
    url = read_setting(env, "YEHUA_TTS_SERVER_URL", d.url, http_url,
                       "an http:// or https:// base URL ending in /v1")
    profiles = read_setting(env, "YEHUA_TTS_SERVER_PROFILES", d.profiles, _profile_names,
                            "speech profile names separated by commas, such as 湘,粤 "
                            "(普通话、湘、东北、陕西、粤、台)")
    given: dict[str, str] = {}
    instructions = read_setting(env, "YEHUA_TTS_SERVER_INSTRUCTIONS", given, _instructions,
                                "profile=instruction pairs separated by ;, such as "
                                "湘=用湖南长沙话说;粤=用广州话说")
    timeout = read_setting(env, "YEHUA_TTS_SERVER_TIMEOUT", d.timeout, positive_float,
                           "a number of seconds > 0")
    if not url:
        if env.get("YEHUA_TTS_SERVER_PROFILES", "").strip():
            raise SettingsError("YEHUA_TTS_SERVER_URL", "a base URL, since "
                                "YEHUA_TTS_SERVER_PROFILES names profiles for it", "")
        return d
    return SpeechServerSettings(
        url=url,
        model=_required_with(env, "YEHUA_TTS_SERVER_MODEL", "YEHUA_TTS_SERVER_URL",
                             "the server's model name, such as cosyvoice2"),
        voice=_required_with(env, "YEHUA_TTS_SERVER_VOICE", "YEHUA_TTS_SERVER_URL",
                             "one of the server's voices, such as 中文男"),
        api_key=env.get("YEHUA_TTS_SERVER_API_KEY", "").strip(),
        profiles=profiles or ("湘",),
        instructions={**DEFAULT_SERVER_INSTRUCTIONS, **instructions},
        timeout=timeout,
    )


def asr_settings(env: Mapping[str, str]) -> AsrSettings:
    """The YEHUA_ASR_* settings; the model is needed when a URL is set."""
    d = AsrSettings()
    url = read_setting(env, "YEHUA_ASR_URL", d.url, http_url,
                       "an http:// or https:// base URL ending in /v1")
    language = read_setting(env, "YEHUA_ASR_LANGUAGE", d.language,
                            matching(re.compile(r"[a-z]{2,3}")),
                            "an ISO 639-1 language code such as zh")
    timeout = read_setting(env, "YEHUA_ASR_TIMEOUT", d.timeout, positive_float,
                           "a number of seconds > 0")
    if not url:
        return d
    return AsrSettings(
        url=url,
        model=_required_with(env, "YEHUA_ASR_MODEL", "YEHUA_ASR_URL",
                             "the server's model name, such as whisper-large-v3"),
        api_key=env.get("YEHUA_ASR_API_KEY", "").strip(),
        language=language, timeout=timeout)
