"""Dialect-style wording for the spoken lesson: local words in framing sentences only."""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lessons.shaping import sentences

log = logging.getLogger(__name__)

# (region stem, framing sentences) -> each sentence flavoured, None where it must stay as is.
Flavourer = Callable[[str, tuple[str, ...]], tuple[str | None, ...]]

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
REGIONS: dict[str, str] = {"湘": "changsha", "东北": "shenyang", "陕西": "xian", "粤": "guangzhou"}
PROTECTED_FILE = LEXICON_DIR / "protected.tsv"
# Kinds whose presence keeps the whole sentence as written; `term` keeps only its own span.
WHOLE_SENTENCE_KINDS = frozenset({"leader", "body", "document", "formulation", "institution"})
PROTECTED_KINDS = WHOLE_SENTENCE_KINDS | {"term"}

_HEADER = ["mandarin", "local", "note"]
_STEM = re.compile(r"[a-z][a-z0-9_-]*")
_NAME_FLAGS = ("nr", "ns", "nt", "nz")
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|《[^》]*》|‘[^’]*’|\"[^\"]*\"")
_NUMBER = re.compile(
    r"[0-9０-９]+(?:[.．:：/\-][0-9０-９]+)*[%％]?(?:年|月|日|号|点|分|秒|元|岁)?"
    r"|[〇零一二三四五六七八九十百千万两]+(?:年|月|日|号)"
)
# Bullets and list numbers that plain text puts in front of a sentence.
_LEAD = re.compile(r"^[\s·•\-*+]*(?:[0-9]{1,3}[、.)）]\s*)?")
_CLOSERS = "”’」』）)\"' "
_GREETING_WHO = ("乡亲", "大家", "各位", "同志们", "朋友们")
_TRANSITIONS = (
    "那么", "那咱们", "那我们", "下面", "接下来", "最后", "再说", "还有", "另外", "此外",
    "首先", "其次", "总之", "总的来说", "好，", "好了", "说到这里", "讲到这里",
)
_SIGN_OFF = (
    "谢谢", "再见", "下次", "下回", "讲到这", "说到这", "就到这", "祝大家", "祝各位", "祝孩子",
)
_LISTENER_QUESTION = re.compile(r"(?:大家|各位|乡亲).*[吗呢]")
# Kept whole: A-not-A questions, so that a lexicon's 不 or 不要 never reaches into 要不要, and
# greetings, so that 晚上好 never becomes 夜间子好.
_WHOLE_WORDS = (
    "早上好", "上午好", "中午好", "下午好", "晚上好",
    "要不要", "有没有", "是不是", "会不会", "能不能", "想不想", "对不对", "用不用",
    "好不好", "行不行", "可不可以", "知不知道", "去不去", "来不来", "懂不懂", "愿不愿意",
)
# Changsha asks yes/no questions with 啵 or 不, not 吗: a local question word inside a 吗-question
# ("晓得何解……吗", "讲了么子吗") mixes two grammars, so there the Mandarin word stays.
_QUESTION_WORDS = frozenset(
    {"什么", "为什么", "干什么", "怎么", "怎么样", "怎么办", "谁", "哪里", "哪儿", "多少", "啥"}
)
_MANDARIN_QUESTION_WORDS_IN_MA_QUESTIONS = frozenset({"changsha"})


def read_protected(path: Path) -> dict[str, str]:
    """Read a `term<TAB>kind` file of protected wording; a bad line raises ValueError naming it."""
    terms: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.rstrip("\r")
        fields = [field.strip() for field in line.split("\t")]
        if not line.strip() or line.lstrip().startswith("#") or fields == ["term", "kind"]:
            continue
        if len(fields) != 2 or not fields[0]:
            problem = f"expected term<TAB>kind, found {line!r}"
        elif fields[1] not in PROTECTED_KINDS:
            problem = f"unknown kind {fields[1]!r} (known: {', '.join(sorted(PROTECTED_KINDS))})"
        elif fields[0] in terms:
            problem = f"{fields[0]!r} is listed twice"
        else:
            terms[fields[0]] = fields[1]
            continue
        raise ValueError(f"{path}:{number}: {problem}")
    return terms


PROTECTED: dict[str, str] = read_protected(PROTECTED_FILE)  # term -> kind
PROTECTED_TERMS: frozenset[str] = frozenset(PROTECTED)
_SENTENCE_TERMS: tuple[str, ...] = tuple(
    term for term, kind in PROTECTED.items() if kind in WHOLE_SENTENCE_KINDS
)


@dataclass(frozen=True)
class Lexicon:
    """A region's curated Mandarin -> local word list."""

    region: str
    entries: dict[str, str]


def read_lexicon(path: Path) -> Lexicon:
    """Read a `mandarin<TAB>local<TAB>note` file; a bad line raises ValueError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error})") from error
    entries: dict[str, str] = {}
    seen_data = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if not seen_data and [field.strip() for field in fields] == _HEADER:
            seen_data = True
            continue
        seen_data = True
        problem = _check_entry(fields, entries)
        if problem:
            raise ValueError(f"{path}:{number}: {problem}")
        entries[fields[0].strip()] = fields[1].strip()
    return Lexicon(region=path.stem, entries=entries)


def _check_entry(fields: list[str], entries: dict[str, str]) -> str | None:
    if len(fields) not in (2, 3):
        return f"expected mandarin<TAB>local<TAB>note, found {len(fields)} field(s)"
    key, local = fields[0].strip(), fields[1].strip()
    if not key or not local:
        return "empty mandarin or local word"
    # Only letters: punctuation or spaces would change how the text splits into sentences.
    for word in (key, local):
        if not all(unicodedata.category(char).startswith("L") for char in word):
            return f"{word!r} must be written in characters only"
    if key == local:
        return f"{key!r} maps to itself"
    if key in PROTECTED_TERMS:
        return f"{key!r} is a protected term and must never be replaced"
    if key in entries:
        return f"{key!r} is listed twice"
    return None


@functools.lru_cache(maxsize=32)
def load_lexicon(region_stem: str, folder: Path | None = None) -> Lexicon:
    """The lexicon `<region_stem>.tsv` from `folder` (the shipped one by default), read once."""
    if not _STEM.fullmatch(region_stem):
        raise ValueError(f"bad lexicon name {region_stem!r}")
    return read_lexicon((folder or LEXICON_DIR) / f"{region_stem}.tsv")


def is_framing(sentence: str, index: int, count: int) -> bool:
    """Whether a sentence frames the lesson: greeting, transition, question, sign-off."""
    body = _LEAD.sub("", sentence).strip()
    if not body:
        return False
    opening = index < 2 and any(who in body for who in _GREETING_WHO) and "好" in body
    # "今天跟大家讲讲……" announces the topic: part of the opening, not of the content.
    topic = index < 3 and body.startswith("今天") and "大家" in body
    transition = body.startswith(_TRANSITIONS)
    question = body.rstrip(_CLOSERS).endswith(("？", "?")) or bool(
        _LISTENER_QUESTION.search(body)
    )
    closing = "就讲到这" in body or (
        index >= count - 3 and any(word in body for word in _SIGN_OFF)
    )
    return opening or topic or transition or question or closing


def flavour(text: str, profile: str, flavourer: Flavourer | None = None) -> str:
    """The text with local words in its framing sentences; other profiles leave it unchanged.

    `flavourer` does the jieba part (e.g. a flavour worker's); by default this process does.
    """
    stem = REGIONS.get(profile)
    if stem is None:
        return text
    pieces: list[str] = []
    position = 0
    for start, end, changed in _rewrite(text, stem, flavourer):
        pieces.append(text[position:start])
        pieces.append(changed)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def flavour_pairs(text: str, profile: str, flavourer: Flavourer | None = None
                  ) -> list[tuple[str, str]]:
    """Every sentence with its flavoured form, in order, for a facilitator to review."""
    stem = REGIONS.get(profile)
    if stem is None:
        return [(sentence, sentence) for sentence in sentences(text)]
    return [(text[start:end], changed)
            for start, end, changed in _rewrite(text, stem, flavourer)]


def flavour_sentences(stem: str, framing: tuple[str, ...]) -> tuple[str | None, ...]:
    """Each sentence with the region's words; None where segmentation left a gap.

    This is the part that needs jieba (about 130 MB): the flavour worker runs it.
    """
    entries = load_lexicon(stem).entries
    return tuple(_flavour_sentence(sentence, entries, _kept_words(stem, sentence))
                 for sentence in framing)


def keeps_whole(sentence: str) -> bool:
    """Whether a sentence is spoken as written: it names a leader, a party or state body, a
    document, an official formulation or an institution, or it quotes or cites a title."""
    return bool(_QUOTED.search(sentence)) or any(term in sentence for term in _SENTENCE_TERMS)


def _kept_words(stem: str, sentence: str) -> frozenset[str]:
    if stem in _MANDARIN_QUESTION_WORDS_IN_MA_QUESTIONS and "吗" in sentence:
        return _QUESTION_WORDS
    return frozenset()


def _rewrite(text: str, stem: str, flavourer: Flavourer | None
             ) -> list[tuple[int, int, str]]:
    load_lexicon(stem)  # a broken lexicon fails here, in the caller, as it always has
    found = sentences(text)
    spans: list[tuple[int, int, bool]] = []
    position = 0
    for index, sentence in enumerate(found):
        start = text.index(sentence, position)
        position = start + len(sentence)
        spans.append((start, position, is_framing(sentence, index, len(found))))
    framing = tuple(text[start:end] for start, end, framed in spans if framed)
    changed = iter(_flavoured(stem, framing, flavourer or flavour_sentences) if framing else ())
    return [(start, end, next(changed) if framed else text[start:end])
            for start, end, framed in spans]


@functools.lru_cache(maxsize=256)
def _flavoured(stem: str, framing: tuple[str, ...], flavourer: Flavourer) -> tuple[str, ...]:
    # Kept: a lesson is flavoured again for every render, page view and review.
    kept = []
    for sentence, changed in zip(framing, flavourer(stem, framing), strict=True):
        if changed is None:
            # Never risk losing text: if segmentation did not cover the sentence, keep it.
            log.warning("segmentation did not cover the sentence, left unflavoured: %s",
                        sentence)
        kept.append(sentence if changed is None else changed)
    return tuple(kept)


def _flavour_sentence(sentence: str, entries: dict[str, str], kept: frozenset[str]
                      ) -> str | None:
    if keeps_whole(sentence):
        return sentence
    guarded = _guarded_spans(sentence)
    words: list[str] = []
    end = 0
    for word, flag in _segmenter().cut(sentence):
        start, end = end, end + len(word)
        local = None if word in kept else entries.get(word)
        if (
            local is None
            or flag.startswith(_NAME_FLAGS)
            or any(start < g_end and g_start < end for g_start, g_end in guarded)
        ):
            words.append(word)
        else:
            words.append(local)
    if end != len(sentence):
        return None
    return "".join(words)


def _guarded_spans(sentence: str) -> list[tuple[int, int]]:
    # Quotations and titles never get here: their sentences are kept whole (keeps_whole).
    spans = [match.span() for match in _NUMBER.finditer(sentence)]
    for term in PROTECTED_TERMS:
        start = sentence.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = sentence.find(term, start + 1)
    return spans


_SEGMENTER_LOCK = threading.Lock()


def _segmenter() -> Any:
    with _SEGMENTER_LOCK:
        return _build_segmenter()


@functools.cache
def _build_segmenter() -> Any:
    # jieba loads its 350,000-word dictionary (about 1 s): only when a lesson is first flavoured.
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    shared_tags = jieba.posseg.dt.word_tag_tab

    class _Tagger(jieba.posseg.POSTokenizer):
        def __init__(self) -> None:
            self.tokenizer = tokenizer
            # Our words' tags go in front; the module's own table stays untouched and shared.
            self.word_tag_tab = ChainMap({}, shared_tags)

    tagger = _Tagger()
    for term in PROTECTED_TERMS:
        tokenizer.add_word(term, tag="nz")
    for word in _WHOLE_WORDS:
        tokenizer.add_word(word, tag="v")
    for stem in REGIONS.values():
        for key in load_lexicon(stem).entries:
            # A curated everyday word is never a name, whatever tag the dictionary gives it.
            tag = shared_tags.get(key, "x")
            tokenizer.add_word(key, tag="x" if tag.startswith(_NAME_FLAGS) else tag)
    log.info("dialect segmenter ready")
    return tagger
