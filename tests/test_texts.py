"""Every sentence a villager or a secretary reads: one name per status, no 「+」 in examples."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bot import texts

TEMPLATES = Path(texts.__file__).parent / "web" / "templates"
BARE_DECLINED = re.compile(r"(?<!暂)不采纳")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# 「建议 + 内容」: a plus standing alone; a key press such as Ctrl+C is no example to type.
PLUS = re.compile(r"＋|(?<![A-Za-z0-9])\+|\+(?![A-Za-z0-9])")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)


def user_texts() -> list[tuple[str, str]]:
    """(where, text) for every Chinese text in bot/texts.py and in the page templates."""
    found = [(name, text) for name, value in vars(texts).items() if name.isupper()
             for text in _strings(value) if CHINESE.search(text)]
    for path in sorted(TEMPLATES.rglob("*.html")):
        # What the page shows: template code and tags removed.
        shown = re.sub(r"\{[{%#].*?[}%#]\}|<[^>]*>", "\n", path.read_text(encoding="utf-8"),
                       flags=re.DOTALL)
        found += [(path.name, line.strip()) for line in shown.splitlines()
                  if CHINESE.search(line)]
    return found


def test_the_texts_are_found_at_all() -> None:
    where = {name for name, _text in user_texts()}
    assert {"CMD_SUGGESTION_RAISED", "SUGGESTION_STATUS_LABELS", "dashboard.html"} <= where


def test_a_declined_suggestion_is_called_zan_bu_cai_na_everywhere() -> None:
    bare = [(name, text) for name, text in user_texts() if BARE_DECLINED.search(text)]
    assert bare == []
    assert texts.SUGGESTION_STATUS_LABELS["declined"] == texts.CMD_STATUS_SAID["declined"]


def test_no_example_tells_people_to_type_a_plus() -> None:
    plus = [(name, text) for name, text in user_texts() if PLUS.search(text)]
    assert plus == []


def test_a_raised_suggestion_says_what_happens_next_and_where() -> None:
    for answer in (texts.CMD_SUGGESTION_RAISED, texts.CMD_SUGGESTION_RAISED_VOICE,
                   texts.CMD_SUGGESTION_RAISED_FOR):
        assert "尽快研究" not in answer and "群里" in answer, answer
