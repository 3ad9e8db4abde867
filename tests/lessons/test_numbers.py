"""The voice reads every number in the table the way a local announcer says it."""

from __future__ import annotations

import pytest

from lessons.shaping import shape_for_speech
from tests.support.number_table import load_number_table

CASES = load_number_table()


def test_the_table_holds_at_least_80_distinct_cases() -> None:
    written = [w for w, _ in CASES]
    assert len(CASES) >= 80
    assert len(set(written)) == len(written)


@pytest.mark.parametrize(("written", "spoken"), CASES, ids=[w for w, _ in CASES])
def test_speech_reads_the_number_the_way_an_announcer_says_it(written: str, spoken: str) -> None:
    assert shape_for_speech(written) == [[spoken]]
