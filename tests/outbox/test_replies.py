"""The gathered receipt names its numbers compactly, as a member reads them."""

from __future__ import annotations

import pytest

from bot import texts
from bot.outbox.replies import gathered_line, number_ranges


@pytest.mark.parametrize(("numbers", "said"), [
    ([12], "12"),
    ([13, 12], "12、13"),
    (range(12, 49), "12–48"),
    ([*range(12, 31), 33, *range(35, 49)], "12–30、33、35–48"),
    ([7, 7, 8, 9, 20], "7–9、20"),
])
def test_numbers_are_named_as_runs(numbers: list[int], said: str) -> None:
    assert number_ranges(numbers) == said


def test_the_gathered_receipt_says_how_many_and_which() -> None:
    line = texts.REPLY_GATHERED.format(count=37, numbers=number_ranges(range(12, 49)))
    assert line.startswith("收到 37 条建议，编号 12–48，")


def test_a_gathered_receipt_of_numbers_spread_among_groups_stays_one_short_line() -> None:
    # Numbers are shared by all groups: a busy evening leaves one group's scattered.
    numbers = list(range(1200, 4200, 7))
    line = gathered_line(numbers)
    assert line.startswith(f"收到 {len(numbers)} 条建议，编号在 1200 到 {numbers[-1]} 之间")
    assert "我的建议" in line and len(line) < 80


def test_a_gathered_receipt_of_a_few_runs_names_them() -> None:
    assert "编号 12–30、33、35–48，" in gathered_line([*range(12, 31), 33, *range(35, 49)])
