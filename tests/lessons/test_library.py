"""The lesson library: the shipped lessons, and how broken lesson files are reported."""

from __future__ import annotations

import datetime
import re
from dataclasses import replace
from pathlib import Path

from lessons.library import PROFILE_NAMES, LessonProblem, load_library, parse_lesson, read_lesson

LIBRARY = Path(__file__).resolve().parents[2] / "lessons" / "library"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

GOOD = """---
title: 防范电信诈骗
speaker: 镇派出所民警
date: 2026-05-10
tags: [反诈, 安全]
summary: 教大家认清几种常见骗局。
---
乡亲们，大家好！

今天讲讲**电信诈骗**。
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems_of(problems: list[LessonProblem], path: Path) -> list[LessonProblem]:
    return [problem for problem in problems if problem.path == path]


def test_every_shipped_lesson_loads_without_problems() -> None:
    result = load_library(LIBRARY)
    assert result.problems == []
    slugs = {lesson.slug for lesson in result.lessons}
    assert len(result.lessons) >= 7
    assert {
        "no1-document-2026",
        "village-rules",
        "living-environment",
        "telecom-fraud",
        "medical-insurance",
        "ebike-charging",
    } <= slugs
    assert slugs & {"summer-drowning", "autumn-fire-prevention"}
    assert [lesson.date for lesson in result.lessons] == sorted(
        lesson.date for lesson in result.lessons
    )
    assert any(lesson.speech_profile == "湘" for lesson in result.lessons)


def test_shipped_lessons_are_short_plain_talks_with_greeting_question_and_sign_off() -> None:
    for lesson in load_library(LIBRARY).lessons:
        text = lesson.plain_text
        count = len(CJK.findall(text))
        assert 300 <= count <= 800, (lesson.slug, count)
        paragraphs = text.split("\n\n")
        assert "乡亲" in paragraphs[0] or "大家" in paragraphs[0], lesson.slug
        assert "？" in text, lesson.slug
        assert len(paragraphs) >= 4, lesson.slug
        assert lesson.date.year == 2026
        assert lesson.tags and all(CJK.search(tag) for tag in lesson.tags)
        assert lesson.speech_profile in (None, *PROFILE_NAMES)
        assert not re.search(r"[#*`>]", text), lesson.slug


def test_broken_files_are_named_with_their_line_and_the_good_ones_still_load(
    tmp_path: Path,
) -> None:
    write(tmp_path, "telecom-fraud.md", GOOD)
    write(tmp_path, "second.md", GOOD.replace("2026-05-10", "2026-01-02"))
    no_title = write(tmp_path, "no-title.md", GOOD.replace("title: 防范电信诈骗\n", ""))
    bad_date = write(tmp_path, "bad-date.md", GOOD.replace("2026-05-10", "2026-13-45"))
    no_close = write(tmp_path, "no-close.md", GOOD.replace("骗局。\n---\n", "骗局。\n\n"))
    unknown = write(tmp_path, "unknown-key.md", GOOD.replace("tags:", "author: 张三\ntags:"))
    not_utf8 = write(tmp_path, "gbk.md", GOOD.encode("gbk"))
    bad_slug = write(tmp_path, "Bad Slug.md", GOOD)

    result = load_library(tmp_path)

    assert [lesson.slug for lesson in result.lessons] == ["second", "telecom-fraud"]
    assert result.get("telecom-fraud") is not None
    assert result.get("no-title") is None
    expected = {
        no_title: (6, "缺少必填项 title（标题）"),
        bad_date: (4, "日期"),
        no_close: (8, "---"),
        unknown: (5, "未知的项 author"),
        not_utf8: (1, "UTF-8"),
        bad_slug: (1, "文件名"),
    }
    for path, (line, words) in expected.items():
        problems = problems_of(result.problems, path)
        assert len(problems) == 1, problems
        assert problems[0].line == line, problems[0]
        assert words in problems[0].message
        assert str(problems[0]) == f"{path}:{line}: {problems[0].message}"
    assert len(result.problems) == len(expected)


def test_a_file_with_several_problems_reports_each_at_its_line(tmp_path: Path) -> None:
    text = (
        "---\n"
        "title: 标题\n"
        "title: 又一个标题\n"
        "date: 2026/05/10\n"
        "这一行不对\n"
        "tags: 反诈，安全、防骗\n"
        "speech_profile: 火星\n"
        "---\n"
        "\n"
    )
    lesson, problems = parse_lesson(tmp_path / "many.md", text)
    assert lesson is None
    found = [(problem.line, problem.message) for problem in problems]
    assert [line for line, _ in found] == [3, 4, 5, 7, 8, 8, 8]
    assert "重复的项 title" in found[0][1]
    assert "日期格式不对" in found[1][1]
    assert "键: 值" in found[2][1]
    assert "未知的方言风格「火星」" in found[3][1]
    messages = " ".join(message for _, message in found[4:])
    assert "缺少必填项 speaker" in messages
    assert "缺少必填项 summary" in messages
    assert "正文是空的" in messages


def test_a_missing_opening_line_and_an_overlong_body_are_reported(tmp_path: Path) -> None:
    _, problems = parse_lesson(tmp_path / "a.md", GOOD.removeprefix("---\n"))
    assert [(p.line, "第一行应该是 ---" in p.message) for p in problems] == [(1, True)]

    long_body = GOOD + "\n".join("这是很长的一段话。" * 20 for _ in range(30))
    _, problems = parse_lesson(tmp_path / "a.md", long_body)
    assert len(problems) == 1
    assert "正文太长" in problems[0].message
    # Body starts on line 8; 24 characters come before the long lines of 181 each.
    assert problems[0].line == 11 + (3000 - 24) // 181


def test_front_matter_accepts_quotes_plain_tag_lists_and_a_speech_profile(tmp_path: Path) -> None:
    text = GOOD.replace("title: 防范电信诈骗", 'title: "防范：电信诈骗"').replace(
        "tags: [反诈, 安全]", "tags: 反诈，安全、 防骗\nspeech_profile: 湘"
    )
    lesson, problems = parse_lesson(tmp_path / "x-1.md", text)
    assert problems == []
    assert lesson is not None
    assert lesson.title == "防范：电信诈骗"
    assert lesson.tags == ("反诈", "安全", "防骗")
    assert lesson.speech_profile == "湘"
    assert lesson.date == datetime.date(2026, 5, 10)
    assert lesson.body == "乡亲们，大家好！\n\n今天讲讲**电信诈骗**。"


def test_two_files_differing_only_in_case_do_not_break_loading(tmp_path: Path) -> None:
    write(tmp_path, "lesson.md", GOOD)
    upper = write(tmp_path, "Lesson.md", GOOD)
    result = load_library(tmp_path)
    assert [lesson.slug for lesson in result.lessons] == ["lesson"]
    assert [(p.path, p.line) for p in result.problems] == [(upper, 1)]


def test_plain_text_drops_markup_and_keeps_paragraphs(tmp_path: Path) -> None:
    body = (
        "乡亲们，大家好！\n\n"
        "## 记住三句话\n"
        "> 这是**要紧**的\n"
        "> 事情。\n\n"
        "- **不听。** 挂掉\n"
        "* 不信`陌生`电话\n"
        "1. 不转账\n\n"
        "有事打[110](tel:110)。\n"
        "谢谢大家"
    )
    text = GOOD.split("---\n乡亲们")[0] + "---\n" + body + "\n"
    lesson, problems = parse_lesson(tmp_path / "plain.md", text)
    assert problems == []
    assert lesson is not None
    assert lesson.plain_text == (
        "乡亲们，大家好！\n\n"
        "记住三句话\n这是要紧的事情。\n\n"
        "· 不听。挂掉\n· 不信陌生电话\n1、不转账\n\n"
        "有事打110。谢谢大家"
    )


def test_content_hash_changes_when_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "hash.md", GOOD)
    first, _ = read_lesson(path)
    again, _ = read_lesson(path)
    write(tmp_path, "hash.md", GOOD.replace("今天讲讲", "今天说说"))
    changed, _ = read_lesson(path)
    write(tmp_path, "hash.md", GOOD.replace("speaker: 镇派出所民警", "speaker: 村医"))
    header_changed, _ = read_lesson(path)
    assert first is not None and again is not None
    assert changed is not None and header_changed is not None
    assert first.content_hash == again.content_hash
    assert len(first.content_hash) == 64
    assert len({first.content_hash, changed.content_hash, header_changed.content_hash}) == 3
    write(tmp_path, "hash.md", ("\ufeff" + GOOD.replace("\n", "\r\n")).encode("utf-8"))
    windows, _ = read_lesson(path)
    assert windows is not None
    assert windows.content_hash == first.content_hash


def test_a_lesson_written_back_to_text_reads_the_same_and_keeps_its_hash(
    tmp_path: Path,
) -> None:
    lesson, _ = parse_lesson(tmp_path / "x.md", GOOD.replace("[反诈, 安全]", "反诈、安全"))
    assert lesson is not None
    again, problems = parse_lesson(tmp_path / "x.md", lesson.to_text())
    assert problems == []
    assert again == replace(lesson, source=lesson.to_text())
    built = replace(lesson, source="")
    assert built.content_hash == again.content_hash
    assert replace(built, body="别的内容").content_hash != built.content_hash


def test_a_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    result = load_library(tmp_path / "nowhere")
    assert result.lessons == []
    assert "找不到课程文件夹" in result.problems[0].message
