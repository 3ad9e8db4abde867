"""Long texts cut into pieces a platform accepts, at sentence ends where possible."""

from __future__ import annotations

import re
from collections.abc import Callable

SENTENCE_END = re.compile(r"[。！？!?…]+[”’」』）)\]】\"']*")
CLAUSE_END = re.compile(r"[；;，,、：:]")
_BREAKS = (SENTENCE_END, re.compile("\n"), CLAUSE_END, re.compile(r"\s"))


def utf8_len(text: str) -> int:
    """Bytes of UTF-8, as WeCom and the group robots count."""
    return len(text.encode())


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Pieces whose `measure` (characters by default) is at most `limit`, cut after a sentence
    end, else at a newline, a clause or a space, never inside a character."""
    pieces: list[str] = []
    rest = text.strip()
    while measure(rest) > limit:
        head = rest[: _fit(rest, limit, measure)]
        cut = _cut(head) or 1
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def _fit(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """How many leading characters of `text` fit in `limit`."""
    low, high = 0, min(len(text), limit)
    while low < high:  # the measure grows with the prefix: bisect
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(head: str) -> int:
    """Where to end a piece within `head`: a sentence end, else a newline, else a clause."""
    floor = len(head) // 4  # a cut earlier than this would leave a needlessly short piece
    for pattern in _BREAKS:
        ends = [m.end() for m in pattern.finditer(head) if m.end() > floor]
        if ends:
            return ends[-1]
    return len(head)
