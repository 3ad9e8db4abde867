"""Lesson text shaped for the voice: numbers read as words, sentences, paragraphs, pauses."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.parametrize(("written", "spoken"), [
    ("今年全村筹集修路资金1,250元。", "今年全村筹集修路资金一千二百五十元。"),
    ("咱们村有10个村民小组。", "咱们村有十个村民小组。"),
    ("每户派2个人参加，村里补贴2万元。", "每户派两个人参加，村里补贴两万元。"),
    ("2月2日在2号会议室学习第2条。", "二月二日在二号会议室学习第二条。"),
    ("今年粮食亩产提高了3.5成。", "今年粮食亩产提高了三点五成。"),
    ("全村医保参保率达到58.3%。", "全村医保参保率达到百分之五十八点三。"),
    ("全村医保参保率达到58.3％。", "全村医保参保率达到百分之五十八点三。"),
    ("2026年是规划开局之年。", "二零二六年是规划开局之年。"),
    ("2020年前全部完成。", "二零二零年前全部完成。"),
    ("中华文明有5000年历史，2000年前就有了。", "中华文明有五千年历史，两千年前就有了。"),
    ("2026-2027学年开始。", "二零二六到二零二七学年开始。"),
    ("新规定从2026-12-01起施行。", "新规定从二零二六年十二月一日起施行。"),
    ("新规定从2026年12月1日起施行。", "新规定从二零二六年十二月一日起施行。"),
    ("夜话定在20:00开始。", "夜话定在晚上八点开始。"),
    ("20:30开始讨论大家的建议。", "晚上八点三十分开始讨论大家的建议。"),
    ("明天08:05在村口集合。", "明天早上八点零五分在村口集合。"),
    ("今晚20:00在村委会开会。", "今晚八点在村委会开会。"),
    ("夜话19:30-21:00举行。", "夜话晚上七点三十分到九点举行。"),
    ("城乡居民医保每人每年缴费380元。", "城乡居民医保每人每年缴费三百八十元。"),
    ("每人缴费¥380。", "每人缴费三百八十元。"),
    ("村里拿出1.5万元修水渠。", "村里拿出一点五万元修水渠。"),
    ("一斤鸡蛋卖12.50元。", "一斤鸡蛋卖十二元五角。"),
    ("从村口到镇上有5公里。", "从村口到镇上有五公里。"),
    ("这袋化肥3kg。", "这袋化肥三公斤。"),
    ("离水库还有2km。", "离水库还有两公里。"),
    ("今天最高气温30℃，夜里降到-5℃。", "今天最高气温三十摄氏度，夜里降到零下五摄氏度。"),
    ("水深超过1.2米就危险。", "水深超过一点二米就危险。"),
    ("接到96110打来的电话，一定要接。", "接到九六幺幺零打来的电话，一定要接。"),
    ("马上打 110、120 求助。", "马上打 幺幺零、幺二零 求助。"),
    ("着火了打119，森林火警打12119。", "着火了打幺幺九，森林火警打幺二幺幺九。"),
    ("有事拨打12345热线。", "有事拨打幺二三四五热线。"),
    ("有事联系村医，手机13812345678。", "有事联系村医，手机幺三八 幺二三四 五六七八。"),
    ("全村共有110户。", "全村共有一百一十户。"),
    ("补贴3-5天内到账。", "补贴三到五天内到账。"),
    ("每组选2-3个代表。", "每组选两到三个代表。"),
    ("第3条是保护耕地。", "第三条是保护耕地。"),
    ("第10期微党课。", "第十期微党课。"),
])
def test_numbers_are_read_the_way_people_say_them(written: str, spoken: str) -> None:
    assert spoken_numbers(written) == spoken


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
