"""Shaping lesson text for speech: sentences, and pieces sized for the speech service."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from lessons.numbers import spoken_numbers

# Silence joined between synthesized pieces: listeners follow pauses better than slowed syllables.
SENTENCE_PAUSE_S = 0.6
PARAGRAPH_PAUSE_S = 1.0

_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")
_RULE = re.compile(r"\s*(?:[-*_]\s*){3,}")
_LINE_START = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+|[-*+·•]\s+)?")
_ORDERED_ITEM = re.compile(r"^(\d{1,3})[.)]\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE_MARKUP = re.compile(r"\*\*|__|~~|[*`]|</?[A-Za-z][^>\n]*>")
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


def _plain_line(line: str) -> str:
    if _RULE.fullmatch(line):
        return ""
    line = _ORDERED_ITEM.sub(r"\1、", _LINE_START.sub("", line, count=1), count=1)
    return _INLINE_MARKUP.sub("", _LINK.sub(r"\1", line))


def shape_for_speech(text: str, limit: int = 200) -> list[list[str]]:
    """Paragraphs (split at blank lines) of sentence pieces to speak: numbers in words, no
    Markdown markup, sentences over `limit` characters split at clauses, silent ones dropped."""
    if limit < 1:
        raise ValueError("limit must be positive")
    plain = "\n".join(_plain_line(line) for line in text.splitlines())
    paragraphs: list[list[str]] = []
    for block in _BLANK_LINES.split(plain):
        pieces = [
            piece
            for sentence in sentences(spoken_numbers(block))
            for piece in ([sentence] if len(sentence) <= limit else _split_long(sentence, limit))
            if letters(piece)
        ]
        if pieces:
            paragraphs.append(pieces)
    return paragraphs


def speech_pauses(paragraphs: Sequence[Sequence[str]]) -> list[float]:
    """The silences, in seconds, between consecutive pieces of `shape_for_speech` output."""
    pauses: list[float] = []
    for index, paragraph in enumerate(p for p in paragraphs if p):
        if index:
            pauses.append(PARAGRAPH_PAUSE_S)
        pauses.extend([SENTENCE_PAUSE_S] * (len(paragraph) - 1))
    return pauses
