"""Lesson text shaped for the voice: numbers read as words, sentences, paragraphs, pauses."""

from __future__ import annotations

from pathlib import Path

from lessons.library import load_library
from lessons.numbers import spoken_numbers
from lessons.shaping import (
    PARAGRAPH_PAUSE_S,
    SENTENCE_PAUSE_S,
    letters,
    sentences,
    shape_for_speech,
    speech_pauses,
)

LIBRARY = Path(__file__).resolve().parents[2] / "lessons" / "library"


def test_text_without_numbers_is_left_exactly_as_written() -> None:
    lessons = load_library(LIBRARY).lessons
    lines = [line for lesson in lessons for line in lesson.plain_text.splitlines()
             if line and not any(c.isdigit() for c in line)]
    assert len(lines) > 50
    for line in lines:
        assert spoken_numbers(line) == line


def test_only_the_numbers_change_in_a_lesson() -> None:
    lesson = load_library(LIBRARY).get("telecom-fraud")
    assert lesson is not None

    spoken = spoken_numbers(lesson.plain_text)

    assert not any(c.isdigit() for c in spoken)
    assert spoken == (lesson.plain_text.replace("96110", "九六幺幺零")
                      .replace("110", "幺幺零"))


def test_a_markdown_lesson_becomes_paragraphs_of_plain_spoken_sentences() -> None:
    body = (
        "## 开场\n"
        "乡亲们，大家好！今天讲讲**防电信诈骗**。\n"
        "\n"
        "还有两个号码要记牢：\n"
        "- 接到 96110 打来的电话，一定要接。\n"
        "- 被骗了马上打 110 报警。\n"
        "\n"
        "1. 不听。\n"
        "2. 不信；不转账。\n"
        "\n"
        "---\n"
        "\n"
        "详情看[县公安局公众号](https://example.org)。\n"
    )

    assert shape_for_speech(body) == [
        ["开场", "乡亲们，大家好！", "今天讲讲防电信诈骗。"],
        ["还有两个号码要记牢：", "接到 九六幺幺零 打来的电话，一定要接。",
         "被骗了马上打 幺幺零 报警。"],
        ["一、不听。", "二、不信；", "不转账。"],
        ["详情看县公安局公众号。"],
    ]


def test_chinese_without_numbers_or_markup_keeps_its_sentences() -> None:
    text = ("乡亲们，大家好！我是镇派出所的民警。\n\n"
            "骗子花样多，但说来说去就那么几招；大家记住了就不怕。")

    shaped = shape_for_speech(text)

    assert shaped == [sentences(paragraph) for paragraph in text.split("\n\n")]
    assert "".join(piece for paragraph in shaped for piece in paragraph) == text.replace("\n", "")


def test_empty_and_silent_paragraphs_are_dropped() -> None:
    assert shape_for_speech("\n\n  \n——\n\n谢谢大家！\n\n\n\n") == [["谢谢大家！"]]
    assert shape_for_speech("") == []


def test_a_sentence_too_long_for_one_request_is_split_at_its_clauses() -> None:
    clause = "村里的事大家商量着办"
    sentence = "，".join([clause] * 30) + "。"

    [pieces] = shape_for_speech(sentence, limit=100)

    assert len(pieces) > 1
    assert all(len(piece) <= 100 for piece in pieces)
    assert "".join(pieces) == sentence


def test_every_word_of_every_sample_lesson_is_spoken() -> None:
    for lesson in load_library(LIBRARY).lessons:
        shaped = shape_for_speech(lesson.body)
        spoken = "".join(piece for paragraph in shaped for piece in paragraph)
        assert letters(spoken) == letters(spoken_numbers(lesson.plain_text)), lesson.slug
        assert not set(spoken) & set("*#[]()0123456789"), lesson.slug


def test_pauses_are_short_between_sentences_and_longer_between_paragraphs() -> None:
    shaped = shape_for_speech("第一句。第二句。\n\n第三句。\n\n第四句！第五句？")

    assert speech_pauses(shaped) == [SENTENCE_PAUSE_S, PARAGRAPH_PAUSE_S, PARAGRAPH_PAUSE_S,
                                     SENTENCE_PAUSE_S]
    assert (SENTENCE_PAUSE_S, PARAGRAPH_PAUSE_S) == (0.6, 1.0)
    assert speech_pauses([]) == []
