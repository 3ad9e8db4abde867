"""Night-talk times typed the way a facilitator types them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.talk_time import TalkTimeError, parse_talk_time, split_schedule_args

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 Dec, 10:00 in the village


def local(text: str) -> str:
    return parse_talk_time(text, SHANGHAI, NOW).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("明晚7点半", "2026-12-04 19:30"),
        ("今晚8点", "2026-12-03 20:00"),
        ("明天 晚上七点", "2026-12-04 19:00"),
        ("周六 19:30", "2026-12-05 19:30"),
        ("下周六 19:30", "2026-12-12 19:30"),
        ("星期天 下午3点", "2026-12-06 15:00"),
        ("12月5日 晚上8点", "2026-12-05 20:00"),
        ("2026-12-20 19:00", "2026-12-20 19:00"),
        ("1月3号 19:00", "2027-01-03 19:00"),  # a date already past this year is next year's
        ("9点", "2026-12-04 09:00"),  # no day and 9:00 has passed: tomorrow's
        ("晚上7点15分", "2026-12-03 19:15"),
        ("后天 十点", "2026-12-05 10:00"),
    ],
)
def test_times_read_as_a_villager_means_them(said: str, meant: str) -> None:
    assert local(said) == meant


@pytest.mark.parametrize("said", ["改天", "明晚", "25:00", "13月40日 8点", "晚上"])
def test_unclear_times_are_refused(said: str) -> None:
    with pytest.raises(TalkTimeError):
        parse_talk_time(said, SHANGHAI, NOW)


def test_topic_place_and_host_are_picked_out_of_the_command() -> None:
    assert split_schedule_args("明晚 7点半 村里修路 地点：枫树屋场 主持：李伯") == (
        "明晚 7点半", "村里修路", "枫树屋场", "李伯")
    assert split_schedule_args("周六 19:30 垃圾怎么收") == ("周六 19:30", "垃圾怎么收", "", "")
