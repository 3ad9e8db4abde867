"""Dialect-style wording: local words in framing sentences, official wording left alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons.dialect import (
    PROTECTED_TERMS,
    REGIONS,
    flavour,
    flavour_pairs,
    is_framing,
    load_lexicon,
    read_lexicon,
)
from lessons.library import load_library
from lessons.shaping import sentences

LIBRARY = Path(__file__).resolve().parents[2] / "lessons" / "library"
LEXICONS = Path(__file__).resolve().parents[2] / "lessons" / "lexicons"


def test_xiang_why_becomes_hejie_never_weimezi() -> None:
    assert flavour("大家晓得为什么要搞垃圾分类吗？", "湘") == "大家晓得何解要搞垃圾分类吗？"
    spoken = flavour("想问问大家：为什么秸秆不能烧？你们知道是什么道理吗？", "湘")
    assert spoken == "想问问大家：何解秸秆不能烧？你们晓得是么子道理吗？"
    assert "为么子" not in spoken


def test_xiang_small_words_never_reach_into_longer_words() -> None:
    spoken = flavour("今天想问问大家：咱们小组离全面小康还差什么？", "湘")
    assert spoken == "今日想问问大家：咱们小组离全面小康还差么子？"


@pytest.mark.parametrize(
    ("profile", "sentence", "expected"),
    [
        (
            "湘",
            "大家说说，今天咱们小组里谁知道全面建成小康社会是什么意思？",
            "大家讲讲，今日咱们小组里哪个晓得全面建成小康社会是么子意思？",
        ),
        (
            "湘",
            "今天想问问大家：2026年的中央一号文件讲了什么？",
            "今日想问问大家：2026年的中央一号文件讲了么子？",
        ),
        (
            "湘",
            "最后，大家记住《村规民约》和“不听不信不转账”，有事打96110，知道吗？",
            "最后，大家记住《村规民约》跟“不听不信不转账”，有事打96110，晓得吗？",
        ),
        (
            "湘",
            "老话说“今天的事今天做，不知道就问”，大家知道吗？",
            "老话讲“今天的事今天做，不知道就问”，大家晓得吗？",
        ),
        (
            "湘",
            "大家说说，怎样才能让百姓说话管用？",
            "大家讲讲，怎样才能让百姓说话管用？",
        ),
        (
            "湘",
            "谢谢长沙县黄兴镇的李明书记，咱们明天再见！",
            "谢谢长沙县黄兴镇的李明书记，咱们明日再见！",
        ),
        (
            "粤",
            "今天东西湖区的王晓明同志也来了，谢谢大家！",
            "今日东西湖区的王晓明同志也来了，谢谢大家！",
        ),
        (
            "东北",
            "还有，《今天说法》里说的“安全账户”，大家知道是什么吗？",
            "还有，《今天说法》里说的“安全账户”，大伙儿知道是啥吗？",
        ),
    ],
)
def test_protected_words_names_numbers_and_quotes_stay_in_framing_sentences(
    profile: str, sentence: str, expected: str
) -> None:
    assert flavour(sentence, profile) == expected


LESSON = """乡亲们，大家好！今天跟大家说说防溺水。

孩子们现在放暑假了，很多孩子不知道水有多深，自己跑去河里玩，什么都不怕。

今天就讲到这里，谢谢大家，咱们明天再见！"""


def test_only_greeting_topic_and_sign_off_are_flavoured() -> None:
    content = "孩子们现在放暑假了，很多孩子不知道水有多深，自己跑去河里玩，什么都不怕。"
    assert flavour(LESSON, "湘") == (
        "乡亲们，大家好！今日跟大家讲讲防溺水。\n\n"
        f"{content}\n\n"
        "今日就讲到这里，谢谢大家，咱们明日再见！"
    )
    assert flavour(LESSON, "东北") == (
        "乡亲们，大伙儿好！今儿个跟大伙儿说说防溺水。\n\n"
        f"{content}\n\n"
        "今儿个就讲到这里，谢谢大伙儿，咱们明儿个再见！"
    )


def test_greetings_stay_greetings() -> None:
    spoken = flavour("各位乡亲，晚上好！今天跟大家说说防火。", "湘")
    assert spoken == "各位乡亲，晚上好！今日跟大家讲讲防火。"
    assert flavour("乡亲们，大家好！", "东北") == "乡亲们，大伙儿好！"


def test_spacing_bullets_and_line_breaks_are_kept_exactly() -> None:
    text = "  乡亲们，大家好！\r\n· 第一条：看好孩子。\n\n1、 想问问大家：今天谁去开会？  \n\n"
    assert flavour(text, "湘") == (
        "  乡亲们，大家好！\r\n· 第一条：看好孩子。\n\n1、 想问问大家：今日哪个去开会？  \n\n"
    )


@pytest.mark.parametrize("profile", ["普通话", "台", "", "湖南"])
def test_profiles_without_a_lexicon_leave_the_text_unchanged(profile: str) -> None:
    assert flavour(LESSON, profile) is LESSON


def test_review_pairs_list_every_sentence_with_its_spoken_form() -> None:
    pairs = flavour_pairs(LESSON, "湘")
    assert [original for original, _ in pairs] == sentences(LESSON)
    assert pairs[1] == ("今天跟大家说说防溺水。", "今日跟大家讲讲防溺水。")
    assert pairs[2][0] == pairs[2][1]
    greeting = "乡亲们，大家好！"
    assert flavour_pairs(greeting, "普通话") == [(greeting, greeting)]


@pytest.mark.parametrize(
    ("sentence", "index", "framing"),
    [
        ("乡亲们，大家好！", 0, True),
        ("各位乡亲，晚上好。", 1, True),
        ("今天跟大家讲讲秋冬防火。", 2, True),
        ("下面我讲几件具体的事。", 5, True),
        ("· 还有两个号码要记牢：", 8, True),
        ("交了管什么？", 9, True),
        ("大家记住了吗，这几条很要紧。", 10, True),
        ("今天就讲到这里。", 18, True),
        ("谢谢大家，祝大家身体健康！", 19, True),
        ("耕地是命根子。", 6, False),
        ("1、政策要从正规渠道听。", 7, False),
        ("今天的天气很好，大家都下地了。", 6, False),
        ("谢谢村医帮忙量血压。", 4, False),
    ],
)
def test_framing_sentences_are_told_from_content(
    sentence: str, index: int, framing: bool
) -> None:
    assert is_framing(sentence, index, 20) is framing


def _paragraphs(text: str) -> list[str]:
    return [part for part in re.split(r"\n\s*\n", text) if part.strip()]


def test_every_shipped_lesson_keeps_its_wording_where_it_matters() -> None:
    library = load_library(LIBRARY)
    assert library.lessons and not library.problems
    changed = 0
    for lesson in library.lessons:
        text = lesson.plain_text
        assert flavour(text, "普通话") == text
        for profile in REGIONS:
            spoken = flavour(text, profile)
            for term in PROTECTED_TERMS:
                assert spoken.count(term) == text.count(term), (lesson.slug, profile, term)
            assert len(sentences(spoken)) == len(sentences(text)), (lesson.slug, profile)
            assert len(_paragraphs(spoken)) == len(_paragraphs(text)), (lesson.slug, profile)
            assert spoken.count("\n") == text.count("\n")
            assert "为么子" not in spoken
            pairs = flavour_pairs(text, profile)
            for index, (original, flavoured) in enumerate(pairs):
                if not is_framing(original, index, len(pairs)):
                    assert flavoured == original, (lesson.slug, profile, original)
            changed += spoken != text
    assert changed >= len(library.lessons) * 3


@pytest.mark.parametrize("stem", sorted(REGIONS.values()))
def test_each_shipped_lexicon_loads_with_real_entries(stem: str) -> None:
    lexicon = load_lexicon(stem)
    assert lexicon.region == stem
    assert len(lexicon.entries) >= 20
    for mandarin, local in lexicon.entries.items():
        assert mandarin != local
        assert mandarin not in PROTECTED_TERMS


def test_lexicons_credit_their_source_and_licence() -> None:
    readme = (LEXICONS / "README.md").read_text(encoding="utf-8")
    assert "《汉语方言词汇》" in readme
    assert "lexibank/beidasinitic" in readme
    assert "CC-BY-4.0" in readme


def test_xiang_lexicon_has_the_required_forms() -> None:
    entries = load_lexicon("changsha").entries
    assert entries["为什么"] == "何解"
    assert "小" not in entries


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("什么 么子", "field"),
        ("今天\t今天\tsame", "itself"),
        ("乡村振兴\t乡里振兴\t", "protected"),
        ("知道\t晓得\tagain", "twice"),
        ("为什么\t何解？\t", "characters only"),
        ("\t么子\t", "empty"),
    ],
)
def test_a_malformed_lexicon_line_is_named(tmp_path: Path, bad_line: str, message: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(
        f"# a comment\nmandarin\tlocal\tnote\n知道\t晓得\tok\n{bad_line}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=rf"bad\.tsv:4: .*{message}"):
        read_lexicon(path)
    with pytest.raises(ValueError, match=r"bad\.tsv:4"):
        load_lexicon("bad", tmp_path)


def test_a_lexicon_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad lexicon name"):
        load_lexicon("../changsha", tmp_path)
