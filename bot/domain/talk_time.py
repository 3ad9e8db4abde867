"""A night talk's time as a facilitator types it: 明晚7点半, 周六 19:30, 12月5日 晚上8点."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = "一二三四五六日天"
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9, "十": 10}

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_DAY = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
_RELATIVE = re.compile(r"(今天|今晚|明天|明晚|后天|后晚)")
_WEEKDAY = re.compile(r"(?:(下)个?)?(?:周|星期|礼拜)([一二三四五六日天])")
_PERIOD = re.compile(r"(早上|上午|中午|下午|傍晚|晚上|夜里)")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_CHINESE_CLOCK = re.compile(r"([\d一二两三四五六七八九十]{1,3})点(半|(\d{1,2})分?)?")


class TalkTimeError(ValueError):
    """The time could not be read."""


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (CN_DIGITS[text[1]] if len(text) > 1 else 0)
    if len(text) == 3 and text[1] == "十":
        return CN_DIGITS[text[0]] * 10 + CN_DIGITS[text[2]]
    if len(text) == 2 and text[1] == "十":
        return CN_DIGITS[text[0]] * 10
    return CN_DIGITS[text]


def _day(text: str, today: date) -> tuple[date | None, bool]:
    """The date named in `text`, and whether it implies the evening (今晚, 明晚)."""
    if m := _ISO_DATE.search(text):
        return date(int(m[1]), int(m[2]), int(m[3])), False
    if m := _MONTH_DAY.search(text):
        year = int(m[1]) if m[1] else today.year
        day = date(year, int(m[2]), int(m[3]))
        if not m[1] and day < today:
            day = date(year + 1, day.month, day.day)
        return day, False
    if m := _RELATIVE.search(text):
        offset = {"今": 0, "明": 1, "后": 2}[m[1][0]]
        return today + timedelta(days=offset), m[1].endswith("晚")
    if m := _WEEKDAY.search(text):
        target = min(WEEKDAYS.index(m[2]), 6)
        ahead = (target - today.weekday()) % 7
        if m[1]:  # 下周六: the Saturday of next week
            ahead += 7
        return today + timedelta(days=ahead), False
    return None, False


def _clock(text: str, evening: bool) -> time | None:
    period = _PERIOD.search(text)
    if m := _CLOCK.search(text):
        hour, minute = int(m[1]), int(m[2])
    elif m := _CHINESE_CLOCK.search(text):
        hour = _number(m[1])
        minute = 30 if m[2] == "半" else int(m[3]) if m[3] else 0
    else:
        return None
    afternoon = evening or (period is not None and period[1] in ("下午", "傍晚", "晚上", "夜里"))
    if afternoon and hour < 12:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise TalkTimeError(text)
    return time(hour, minute)


def parse_talk_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """An aware UTC datetime for what the facilitator wrote; TalkTimeError if it is unclear."""
    local_now = now.astimezone(zone)
    try:
        day, evening = _day(text, local_now.date())
        clock = _clock(text, evening)
    except (KeyError, ValueError) as exc:
        raise TalkTimeError(text) from exc
    if clock is None:
        raise TalkTimeError(text)
    try:
        at = datetime.combine(day or local_now.date(), clock, tzinfo=zone)
    except ValueError as exc:
        raise TalkTimeError(text) from exc
    if day is None and at <= local_now:
        at += timedelta(days=1)  # "7点半" said after 7:30 means tomorrow's
    return at.astimezone(ZoneInfo("UTC"))


def split_schedule_args(args: str) -> tuple[str, str, str, str]:
    """`明晚 7点半 修路 地点：枫树屋场 主持：李伯` -> (time words, topic, place, host)."""
    place = host = ""
    words: list[str] = []
    for token in args.split():
        key, sep, value = token.partition("：") if "：" in token else token.partition(":")
        if sep and key in ("地点", "在"):
            place = value
        elif sep and key in ("主持", "主持人"):
            host = value
        else:
            words.append(token)
    when: list[str] = []
    while words and _looks_like_time(words[0]):
        when.append(words.pop(0))
    return " ".join(when), " ".join(words), place, host


def _looks_like_time(word: str) -> bool:
    return bool(_ISO_DATE.search(word) or _MONTH_DAY.search(word) or _RELATIVE.search(word)
                or _WEEKDAY.search(word) or _CLOCK.fullmatch(word)
                or _CHINESE_CLOCK.search(word) or _PERIOD.fullmatch(word))
