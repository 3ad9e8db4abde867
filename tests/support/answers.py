"""The suggestion numbers the bot's answers name (「第 N 号」, gathered 「编号 12–30、33」, or
the span of scattered ones 「编号在 12 到 90 之间」)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

_ONE = re.compile(r"第 (\d+) 号")
_GATHERED = re.compile(r"编号 ([0-9–、]+)")
_SPREAD = re.compile(r"编号在 (\d+) 到 (\d+) 之间")


def numbers_in(text: str) -> list[int]:
    """The suggestion numbers an answer acknowledges (none for other answers)."""
    gathered = _GATHERED.search(text)
    if gathered is None:
        return [int(number) for number in _ONE.findall(text)[:1]]
    numbers: list[int] = []
    for part in gathered.group(1).split("、"):
        first, _dash, last = part.partition("–")
        numbers += range(int(first), int(last or first) + 1)
    return numbers


def span_in(text: str) -> range | None:
    """The span a gathered answer names when its numbers are too scattered to list."""
    spread = _SPREAD.search(text)
    return None if spread is None else range(int(spread[1]), int(spread[2]) + 1)


def answered_numbers(texts: Iterable[str]) -> set[int]:
    return {number for text in texts for number in numbers_in(text)}


@contextmanager
def answers_refused(database: Path) -> Iterator[None]:
    """No answer can be stored in the app's SQLite file while the block lasts: neither in the
    answers' table nor as a receipt made from a suggestion's row. Each such write fails as a
    storage fault (an operational error); everything else works."""
    with closing(sqlite3.connect(database, isolation_level=None)) as other:
        # Triggers writing to a table that is then dropped: SQLite fails the insert itself.
        other.execute("CREATE TABLE refused_answer (x)")
        other.execute("CREATE TRIGGER refuse_answers BEFORE INSERT ON reply "
                      "BEGIN INSERT INTO refused_answer VALUES (1); END")
        other.execute("CREATE TRIGGER refuse_receipts BEFORE INSERT ON suggestion "
                      "WHEN NEW.receipt_from_row IS NOT NULL "
                      "BEGIN INSERT INTO refused_answer VALUES (1); END")
        other.execute("DROP TABLE refused_answer")
    try:
        yield
    finally:
        with closing(sqlite3.connect(database, isolation_level=None)) as other:
            other.execute("DROP TRIGGER refuse_answers")
            other.execute("DROP TRIGGER refuse_receipts")
