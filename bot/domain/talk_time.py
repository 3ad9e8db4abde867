"""A night talk's time as a facilitator types it, read by jionlp with the village's rules on top.

jionlp reads the words (明日夜里7点, 腊月初八, 下周三, 每月第一个周五); on top of it: a bare hour
means the evening (a night talk at 7 is at 19:00), a time already past is refused, a month and
day already past this year means next year's, and everything is in the group's time zone.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

# A word that says which part of the day: with it, 7点 is what it says (早上7点 is 7:00).
_PERIOD = re.compile(r"[早午晚夜]|凌晨|[aApP][mM]")
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")
_PADDED_CLOCK = re.compile(r"(?<!\d)0\d[:：]\d{2}")  # 09:00 is written as a 24-hour clock
_MONTH = re.compile(r"[月腊正冬]")
_YEAR = re.compile(r"年|\d{4}-")
# 周三 alone, not 下周三 or 本周三: said on a Saturday it means the coming Wednesday.
_BARE_WEEKDAY = re.compile(r"(?<![上下这本])(?:周|星期|礼拜)[一二三四五六日天]")
_SPACE = re.compile(r"(?<!\d)\s+|\s+(?!\d)")
# What a word of the command must contain to be read as part of the time, not the topic.
_TIME_WORD = re.compile(
    r"\d{1,2}[:：]\d{2}|\d{4}-\d{1,2}-\d{1,2}|[\d一二两三四五六七八九十]点|"
    r"[\d一二三四五六七八九十]{1,3}[日号]|[\d一二三四五六七八九十]{1,2}月|腊月|正月|冬月|初[一二三四五六七八九十]|"
    r"[今明后昨前][天晚日早]|大?后天|[周星期礼拜]{1,2}[一二三四五六日天]|每[周月个星礼]|"
    r"^(?:早上|上午|中午|下午|傍晚|晚上|夜里|今晚|明晚)$")
_NTH_WEEKDAY = re.compile(r"第([一二三四五1-5])个?(?:周|星期|礼拜)")
ROLL_AHEAD = timedelta(days=183)  # 1月3号 said in December is next year's; 11月30号 is a mistake
EVENING_FROM = 12  # 1 to 11 without a part of the day means the evening


class TalkTimeError(ValueError):
    """The time could not be read."""


class TalkTimePast(TalkTimeError):
    """The time was read, but it has already passed."""

    def __init__(self, text: str, at: datetime) -> None:
        super().__init__(text)
        self.at = at


class RepeatKind(StrEnum):
    WEEKLY = "weekly"  # 每周五
    MONTHLY_WEEKDAY = "monthly_weekday"  # 每月第一个周五
    MONTHLY_DAY = "monthly_day"  # 每月15号


@dataclass(frozen=True)
class Repeat:
    """How a night talk repeats: weekly on a weekday, monthly on the nth weekday or a date."""

    kind: RepeatKind
    clock: time
    weekday: int = 0  # Monday 0
    ordinal: int = 1  # the nth weekday of the month; -1 the last one
    day: int = 1  # the day of the month

    def next_after(self, after: datetime) -> datetime:
        """The first time of the series strictly after `after` (aware, in its zone)."""
        zone = after.tzinfo
        start = after.date()
        if self.kind is RepeatKind.WEEKLY:
            day = start + timedelta(days=(self.weekday - start.weekday()) % 7)
            at = datetime.combine(day, self.clock, tzinfo=zone)
            return at if at > after else at + timedelta(days=7)
        year, month = start.year, start.month
        for _ in range(24):
            day_ = self._day_in(year, month)
            if day_ is not None:
                at = datetime.combine(day_, self.clock, tzinfo=zone)
                if at > after:
                    return at
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise TalkTimeError(str(self))

    def _day_in(self, year: int, month: int) -> date | None:
        days = calendar.monthrange(year, month)[1]
        if self.kind is RepeatKind.MONTHLY_DAY:
            return date(year, month, self.day) if self.day <= days else None
        if self.ordinal == -1:
            last = date(year, month, days)
            return last - timedelta(days=(last.weekday() - self.weekday) % 7)
        first = date(year, month, 1)
        day = 1 + (self.weekday - first.weekday()) % 7 + 7 * (self.ordinal - 1)
        return date(year, month, day) if day <= days else None


@dataclass(frozen=True)
class TalkTime:
    """What the words mean: the (first) start in UTC, and how it repeats, if it does."""

    starts_at: datetime
    repeat: Repeat | None = None


_LOADING = threading.Lock()


@cache
def _jio() -> Any:
    # Imported on first use, banner silenced: it costs half a second and tens of megabytes,
    # which an idle bot that schedules nothing should not pay. The lock keeps two first readers
    # from swapping sys.stdout back in the wrong order.
    with _LOADING, contextlib.redirect_stdout(io.StringIO()):
        import jionlp

    return jionlp


def _moment(span: list[str], text: str) -> datetime:
    """The start of jionlp's span, if it names a minute or an hour (not a whole day or evening)."""
    start, end = (datetime.fromisoformat(value) for value in span)
    if end - start >= timedelta(hours=1):
        raise TalkTimeError(text)  # 明晚 or 晚上: no clock time was given
    return start


def _evening(at: datetime, said: str) -> datetime:
    """A bare hour from 1 to 11 is the evening's: 明天7点 is 19:00."""
    if (0 < at.hour < EVENING_FROM and not _PERIOD.search(said)
            and not _PADDED_CLOCK.search(said)):
        return at + timedelta(hours=12)
    return at


def _check_clock(text: str) -> None:
    # jionlp reads 25:00 as 7:25; a clock written with a colon must be a real one.
    for match in _CLOCK.finditer(text):
        if int(match[1]) > 23 or int(match[2]) > 59:
            raise TalkTimeError(text)


def _parse(text: str, local_now: datetime) -> dict[str, Any]:
    """jionlp's reading of `text`, said at the naive local time `local_now`."""
    try:
        result = _jio().parse_time(text, time_base=local_now)
    except Exception as exc:  # jionlp raises bare ValueErrors and worse on words it cannot read
        raise TalkTimeError(text) from exc
    if not isinstance(result, dict) or result.get("definition") != "accurate":
        raise TalkTimeError(text)
    return result


def _ordinal(said: str, text: str) -> int:
    """Which weekday of the month the words name (第一个 1, 第三个 3, 最后一个 -1)."""
    # jionlp's point is that weekday of the current week, whatever the words say: the nth is
    # read from the words, or 每月第一个周五 said on a Monday would become the second Friday.
    if "最后" in said:
        return -1
    nth = _NTH_WEEKDAY.search(text)
    if nth is None:
        raise TalkTimeError(text)
    return int(nth[1]) if nth[1].isdigit() else "一二三四五".index(nth[1]) + 1


def _repeat(result: dict[str, Any], text: str, evening: bool) -> Repeat:
    period = result["time"]
    point, said = period["point"]["time"], period["point"].get("string", text)
    at = _moment(point, text)
    if evening:
        at = _evening(at, said)
    delta = period["delta"]
    if delta == {"day": 7}:
        return Repeat(RepeatKind.WEEKLY, at.time(), weekday=at.weekday())
    if delta == {"month": 1} and re.search(r"周|星期|礼拜", said):
        return Repeat(RepeatKind.MONTHLY_WEEKDAY, at.time(), weekday=at.weekday(),
                      ordinal=_ordinal(said, text))
    if delta == {"month": 1}:
        return Repeat(RepeatKind.MONTHLY_DAY, at.time(), day=at.day)
    raise TalkTimeError(text)  # every day, every other week…: not a night talk's rhythm


def read_talk_time(text: str, zone: ZoneInfo, now: datetime, *, evening: bool = True
                   ) -> TalkTime:
    """What the facilitator wrote, in the group's zone; TalkTimeError if it is unclear or past.

    With `evening` (a night talk), a bare hour from 1 to 11 is the evening's; without it, a
    clock time alone (20:00) that has passed today means tomorrow's.
    """
    words = _SPACE.sub("", text.strip())
    if not words:
        raise TalkTimeError(text)
    _check_clock(words)
    local_now = now.astimezone(zone)
    result = _parse(words, local_now.replace(tzinfo=None))
    if result.get("type") == "time_period":
        repeat = _repeat(result, words, evening)
        return TalkTime(repeat.next_after(local_now).astimezone(UTC), repeat)
    if result.get("type") != "time_point":
        raise TalkTimeError(text)
    at = _moment(result["time"], words).replace(tzinfo=zone)
    if evening:
        at = _evening(at, words)
    if at <= local_now and _MONTH.search(words) and not _YEAR.search(words):
        next_year = at.replace(year=at.year + 1)
        if next_year - local_now <= ROLL_AHEAD:
            at = next_year
    elif at <= local_now and _BARE_WEEKDAY.search(words):
        at += timedelta(days=7)
    elif at <= local_now and not evening and _CLOCK.fullmatch(words):
        at += timedelta(days=1)
    if at <= local_now:
        raise TalkTimePast(text, at.astimezone(UTC))
    return TalkTime(at.astimezone(UTC))


def parse_talk_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """An aware UTC datetime for one night talk; TalkTimeError if unclear, past or repeating."""
    read = read_talk_time(text, zone, now)
    if read.repeat is not None:
        raise TalkTimeError(text)
    return read.starts_at


def parse_plain_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A one-off time as written (9:00 is the morning), e.g. for posting a lesson; '20:00'
    alone is the next 20:00. TalkTimeError if unclear, past or repeating."""
    read = read_talk_time(text, zone, now, evening=False)
    if read.repeat is not None:
        raise TalkTimeError(text)
    return read.starts_at


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
    return bool(_TIME_WORD.search(word))


_WITHIN_DAYS = re.compile(
    r"([\d一二两三四五六七八九十]{1,3})(?:个)?(天|日|周|星期|礼拜|个月|月)(?:之?内)?")
_DEADLINE_TAIL = re.compile(r"(?:之前|以前|前|之内|以内|为止)$")
_CHINESE_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_SPAN_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "个月": 30, "月": 30}


def _small_number(text: str) -> int:
    """`3`, `三`, `十`, `十五`, `二十` as an int."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _ten, ones = text.partition("十")
        return (_CHINESE_DIGITS.get(tens, 1) if tens else 1) * 10 + (
            _CHINESE_DIGITS.get(ones, 0) if ones else 0)
    return _CHINESE_DIGITS[text]


def read_day(text: str, zone: ZoneInfo, now: datetime) -> date:
    """A deadline as people type it (下周五前, 12月20号, 3天内, 月底) as a local date.

    TalkTimeError if unclear, TalkTimePast if the day is before today.
    """
    words = _DEADLINE_TAIL.sub("", _SPACE.sub("", text.strip()))
    if not words:
        raise TalkTimeError(text)
    today = now.astimezone(zone).date()
    within = _WITHIN_DAYS.fullmatch(words)
    if within is not None:
        return today + timedelta(days=_small_number(within.group(1)) * _SPAN_DAYS[within[2]])
    if words in ("月底", "本月底", "这个月底"):
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    if words in ("周末", "本周末", "这周末", "本周内", "这周内", "本周"):
        return today + timedelta(days=6 - today.weekday())
    local_now = now.astimezone(zone)
    result = _parse(words, local_now.replace(tzinfo=None))
    if result.get("type") != "time_point":
        raise TalkTimeError(text)
    day = datetime.fromisoformat(result["time"][0]).date()
    if day < today and _MONTH.search(words) and not _YEAR.search(words):
        next_year = day.replace(year=day.year + 1)
        if next_year - today <= ROLL_AHEAD:
            day = next_year
    elif day < today and _BARE_WEEKDAY.search(words):
        day += timedelta(days=7)
    if day < today:
        raise TalkTimePast(text, datetime.combine(day, time(), tzinfo=zone).astimezone(UTC))
    return day


# Only the characters dates are written with: 「路灯明天就修」 is a reply, not a deadline.
_DAY_CHARS = re.compile(r"[\d一二两三四五六七八九十零〇今明后昨大下上本这个周星期礼拜天日号"
                        r"月底末初腊正冬年内前之以为止\-/.]+")
_NAMED_DAYS = ("月底", "本月底", "这个月底", "周末", "本周末", "这周末", "本周内", "这周内",
               "本周")


def looks_like_day(word: str) -> bool:
    """Whether a word of a command reads as a deadline (下周五前, 12月20号, 3天内, 月底)."""
    bare = _DEADLINE_TAIL.sub("", word)
    if not bare or not _DAY_CHARS.fullmatch(word):
        return False
    return bool(_TIME_WORD.search(bare) or _WITHIN_DAYS.fullmatch(bare)) or bare in _NAMED_DAYS
