"""How people really start a message: simplified matching, suggestion lead-ins, bare commands."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

# Only the head of a message decides what it is; converting more would cost without changing it.
HEAD_CHARS = 40
# 「建议 …」 and the ways people lead into one, longest first (「我想提个建议」 before 「建议」).
LEAD_INS = ("我想提个建议", "我有个建议", "提个建议", "有个建议", "我建议", "建议")
# Without a space or colon, 建议 may be the subject of a remark about a suggestion already made
# (「建议很好」「建议的事」「我建议过了」); these openings of the rest say it is such a remark.
_REMARK = re.compile(
    r"(?:很|挺|蛮|太|真|非常|特别|十分|不错|不好|不行|不对|好(?!好)|是|的|也|都|还|已|就|过|"
    r"呢|吗|啊|吧|了|们|被|提了|有道理|我同意|收到|看了|想(?:说|跟|和|问|提))")
_LEAD = re.compile(
    r"\s*(?P<hash>[#＃]\s*)?(?P<lead>" + "|".join(LEAD_INS) + r")(?P<sep>[\s:：,，]*)(?P<rest>.*)",
    re.DOTALL)
_TRAILING = "。.！!？?~～ \t\r\n"


class _Simplified(dict[int, str]):
    """Each character's simplified form, one character for one, converted on first sight:
    every message passes here, and OpenCC is slow per call while the characters people use
    are few."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        out = _converter().convert(char)
        self[code] = found = out if len(out) == 1 else char
        return found


_SIMPLIFIED = _Simplified()


@cache
def _converter() -> Any:
    # Imported on first use: an idle bot that hears no message does not load the dictionaries.
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _traditional() -> re.Pattern[str] | None:
    """A character class of the characters (within the Basic Multilingual Plane) whose
    simplified form may differ, read from the converter's own character and phrase lists: a
    key with a candidate other than itself (the converter takes the first). None if they
    cannot be read (then every head is translated). Most messages hold none of them, and a
    search costs far less than a translation of the head; the converter itself is loaded only
    for a head that holds one."""
    import opencc

    folder = Path(opencc.__file__).parent / "dictionary"
    changing: set[str] = set()
    try:
        for name in ("TSCharacters.txt", "TSPhrases.txt"):
            for line in (folder / name).read_text(encoding="utf-8").splitlines():
                key, _tab, candidates = line.partition("\t")
                if len(key) == 1 and key <= "\uffff" and candidates.split() != [key]:
                    changing.add(key)
    except OSError:
        return None
    # (Characters beyond it would make the class a list searched one by one.)
    return re.compile("[" + "".join(re.escape(char) for char in sorted(changing)) + "]")


def _beyond_bmp(text: str) -> bool:
    """Whether `text` holds a character beyond the Basic Multilingual Plane (two UTF-16 units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text)


# The last text read and its reading: a message is read several times on its way through
# the router (as a command, a bare word, a suggestion).
_last_read: tuple[str, str] = ("", "")


def simplified_head(text: str) -> str:
    """`text` with its head in simplified characters, one character for one, so that positions
    in the result are positions in `text`."""
    global _last_read
    last = _last_read
    if last[0] is text:
        return last[1]
    head = text[:HEAD_CHARS]
    if head.isascii():
        return text
    traditional = _traditional()
    read = text
    if traditional is None or traditional.search(head) is not None or _beyond_bmp(head):
        read = head.translate(_SIMPLIFIED) + text[HEAD_CHARS:]
    _last_read = (text, read)
    return read


def suggestion_body(text: str) -> str | None:
    """The suggestion a message raises, as the member wrote it; None if it raises none.

    Matched on simplified characters (建議 is 建议), stored in the member's own characters.
    """
    match = _LEAD.fullmatch(simplified_head(text))
    if match is None:
        return None
    rest = match.group("rest")
    if not match.group("hash") and not match.group("sep") and rest and _REMARK.match(rest):
        return None
    return text[match.start("rest"):].strip()


def bare_word(text: str) -> str:
    """A whole message as a possible command name: trimmed, simplified, trailing marks dropped."""
    return simplified_head(text.strip()).rstrip(_TRAILING).strip()


# The short answers to 「要把这段语音记成建议吗？」; they count only while that question waits.
AGREEMENTS = frozenset({"是", "是的", "是啊", "好", "好的", "要", "要的", "记上", "记上吧"})
_AGREEMENT_CHARS = 12  # the longest answer with room for spaces and 「！！」


def agrees(text: str) -> bool:
    """Whether a whole message is a bare 「是」「好的」「记上」 (trailing marks allowed)."""
    # Every message passes here: a longer one is no such answer, and is not converted for it.
    return len(text) <= _AGREEMENT_CHARS and bare_word(text) in AGREEMENTS


MAX_NUMBER_DIGITS = 9  # a longer number names no suggestion on any database
_NUMBER = re.compile(r"第?\s*(\d+)\s*(?:号[\s,，:：]*|[\s,，:：]+|$)(.*)", re.DOTALL)


def parse_number(args: str) -> tuple[int, str] | None:
    """`12 回复`, `第12号 回复` -> (12, "回复"); None if no suggestion number leads."""
    match = _NUMBER.fullmatch(args.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2).strip()
