"""Shaping lesson text for speech: sentences, and pieces sized for the speech service."""

from __future__ import annotations

import re
import unicodedata

_SENTENCE = re.compile(r"[^。！？；!?;\n]*[。！？；!?;]+[”’」』）)\"']*|[^\n]+")
_CLAUSE = re.compile(r"[^，、,：:]+[，、,：:]*|[，、,：:]+")


def letters(text: str) -> str:
    """Only the letters and digits of `text`, case-folded: what a listener must hear."""
    return "".join(c for c in text.casefold() if unicodedata.category(c)[0] in "LN")


def sentences(text: str) -> list[str]:
    """Split text at 。！？；!?; and newlines, keeping the punctuation and closing quotes."""
    return [s for s in (m.group().strip() for m in _SENTENCE.finditer(text)) if s]


def _split_long(sentence: str, limit: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for clause in _CLAUSE.findall(sentence):
        if len(current) + len(clause) <= limit:
            current += clause
            continue
        if current:
            parts.append(current)
        while len(clause) > limit:
            parts.append(clause[:limit])
            clause = clause[limit:]
        current = clause
    if current:
        parts.append(current)
    return parts


def split_for_speech(text: str, limit: int = 200) -> list[str]:
    """Split text into pieces of at most `limit` characters at sentence, then clause, ends."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current = ""
    for sentence in sentences(text):
        for unit in [sentence] if len(sentence) <= limit else _split_long(sentence, limit):
            # Sentences joined by newlines get a longer pause from edge-tts.
            joined = f"{current}\n{unit}" if current else unit
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = unit
    if current:
        pieces.append(current)
    return [piece for piece in pieces if letters(piece)]
