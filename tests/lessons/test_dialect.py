"""Dialect-style wording: local words in framing sentences, official wording left alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons.dialect import (
    PROTECTED,
    PROTECTED_TERMS,
    REGIONS,
    WHOLE_SENTENCE_KINDS,
    flavour,
    flavour_pairs,
    flavour_sentences,
    is_framing,
    keeps_whole,
    load_lexicon,
    read_lexicon,
    read_protected,
)
from lessons.library import load_library
from lessons.shaping import sentences

LIBRARY = Path(__file__).resolve().parents[2] / "lessons" / "library"
LEXICONS = Path(__file__).resolve().parents[2] / "lessons" / "lexicons"


def test_xiang_why_becomes_hejie_never_weimezi() -> None:
    assert flavour("为什么秸秆不能烧？", "湘") == "何解秸秆不能烧？"
    spoken = flavour("想问问大家：为什么秸秆不能烧？你们知道是什么道理吗？", "湘")
    # A 吗-question keeps Mandarin question words: 么子……吗 is neither Changsha nor Mandarin.
    assert spoken == "想问问大家：何解秸秆不能烧？你们晓得是什么道理吗？"
    assert "为么子" not in spoken


def test_xiang_small_words_never_reach_into_longer_words() -> None:
    spoken = flavour("大家说说，今天的说明会上你们小组谁去？", "湘")
    assert spoken == "大家讲讲，今日的说明会上你们小组哪个去？"


@pytest.mark.parametrize(
    ("profile", "sentence", "expected"),
    [
        (
            "湘",
            "谢谢长沙县黄兴镇的李明书记，咱们明天再见！",
            "谢谢长沙县黄兴镇的李明书记，我们明日再见！",
        ),
        (
            "粤",
            "今天东西湖区的王晓明同志也来了，谢谢大家！",
            "今日东西湖区的王晓明同志也来了，多谢大家！",
        ),
        (
            "东北",
            "今天想问问大家：高标准农田建好以后，谁来管？",
            "今儿个想问问大伙儿：高标准农田建好以后，谁来管？",
        ),
        (
            "湘",
            "今天想问问大家：种地补贴发了没有？",
            "今日想问问大家：种地补贴发了没有？",
        ),
    ],
)
def test_names_numbers_and_terms_stay_inside_a_flavoured_sentence(
    profile: str, sentence: str, expected: str
) -> None:
    assert flavour(sentence, profile) == expected


@pytest.mark.parametrize("profile", sorted(REGIONS))
@pytest.mark.parametrize(
    "sentence",
    [
        "习近平总书记讲了什么吗？",  # a leader
        "今天想问问大家：党中央、国务院今年说了什么？",  # party and state bodies
        "有事找村委会，知道吗？",
        "今天想问问大家：2026年的中央一号文件讲了什么？",  # a document
        "最后，大家记住《村规民约》，知道吗？",  # a title
        "老话说“今天的事今天做”，大家知道吗？",  # a quotation
        "今天说说，怎样建设宜居宜业和美乡村？",  # official formulations
        "大家说说，今天我们小组里谁知道全面建成小康社会是什么意思？",
        "大家要相信党和政府，有困难找村里，好不好？",
        "大家说说，怎样才能让百姓说话管用？",
        "今天想问问大家：孩子在镇中心学校吃得好不好？",  # an institution
        "今天跟大家说说，镇卫生院什么时候上班？",
    ],
)
def test_a_sentence_naming_something_official_is_spoken_as_written(
    profile: str, sentence: str
) -> None:
    assert keeps_whole(sentence)
    assert flavour(sentence, profile) == sentence


@pytest.mark.parametrize(
    ("profile", "sentence", "bad"),
    [
        ("湘", "今天说说，怎样建设宜居宜业和美乡村？", "跟美乡村"),
        ("陕西", "今天说说，怎样建设宜居宜业和美乡村？", "跟美乡村"),
        ("湘", "大家和村干部一起商量，好不好？", "跟村干部"),
        ("湘", "今天想问问大家：孩子在镇中心学校吃得好不好？", "学堂"),
        ("湘", "大家说说，孩子放学回学校没有？", "学堂"),
        ("湘", "大家要相信党和政府，有困难找村里，好不好？", "要信党"),
        ("东北", "大家要相信村里，有困难就说，好不好？", "要信村里"),
        ("湘", "今天想问问大家：种地补贴发了没有？", "作田"),
        ("湘", "习近平总书记讲了什么吗？", "么子"),
        ("湘", "大家知道为什么不要在耕地上盖房吗？", "何解莫"),
        ("湘", "大家知道为什么不要在耕地上盖房吗？", "莫在"),
        ("湘", "今天想问问大家：村里的新路，你去过没有？", "冇得"),
        ("粤", "那我们具体该怎么做呢？", "我哋"),
        ("粤", "那我们具体该怎么做呢？", "点做"),
        ("粤", "今天跟大家说说红白喜事怎么办。", "点算"),
        ("湘", "今天说说，这跟咱庄稼人有啥关系？", "咱"),
        ("湘", "今天说说，这跟咱庄稼人有啥关系？", "啥"),
        ("粤", "今天说说，这跟咱庄稼人有啥关系？", "啥"),
        ("湘", "今天想问问大家：咱们村谁家有啥困难？", "咱"),
    ],
)
def test_the_substitutions_that_bent_wording_are_gone(
    profile: str, sentence: str, bad: str
) -> None:
    assert bad not in flavour(sentence, profile)


def test_xiang_asks_the_changsha_way_without_mixing_grammars() -> None:
    assert flavour("今天想问问大家：咱们村谁家有啥困难？", "湘") == (
        "今日想问问大家：我们村谁家有么子困难？"
    )
    assert flavour("大家知道为什么不要在耕地上盖房吗？", "湘") == (
        "大家晓得为什么不要在耕地上盖房吗？"
    )
    assert flavour("今天想问问大家：村里的新路，你去过没有？", "湘") == (
        "今日想问问大家：村里的新路，你去过没有？"
    )


LESSON = """乡亲们，大家好！今天跟大家说说防溺水。

孩子们现在放暑假了，很多孩子不知道水有多深，自己跑去河里玩，什么都不怕。

今天就讲到这里，谢谢大家，咱们明天再见！"""


def test_only_greeting_topic_and_sign_off_are_flavoured() -> None:
    content = "孩子们现在放暑假了，很多孩子不知道水有多深，自己跑去河里玩，什么都不怕。"
    assert flavour(LESSON, "湘") == (
        "乡亲们，大家好！今日跟大家讲讲防溺水。\n\n"
        f"{content}\n\n"
        "今日就讲到这里，谢谢大家，我们明日再见！"
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
    assert len(lexicon.entries) >= 15
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
    assert entries["咱们"] == "我们"
    for bent in ("小", "和", "学校", "相信", "种地", "没有", "不要"):
        assert bent not in entries, bent


def test_no_lexicon_swaps_a_conjunction_or_belief() -> None:
    for stem in REGIONS.values():
        entries = load_lexicon(stem).entries
        assert "和" not in entries and "相信" not in entries, stem


# Colloquial Cantonese grammar words: they need Cantonese word order around them, which a word
# list cannot give, so 粤 keeps to words that are also written Chinese.
CANTONESE_GRAMMAR = "嘅咗喺佢哋唔冇系嘢啲乜边呢嗰"


def test_cantonese_keeps_to_words_that_read_right_in_written_chinese() -> None:
    entries = load_lexicon("guangzhou").entries
    for mandarin, local in entries.items():
        assert not set(local) & set(CANTONESE_GRAMMAR), (mandarin, local)
    for lesson in load_library(LIBRARY).lessons:
        spoken = flavour(lesson.plain_text, "粤")
        assert not set(spoken) & set(CANTONESE_GRAMMAR) - set(lesson.plain_text), lesson.slug


NORTHERN = ("咱", "啥", "庄稼人", "俺", "这儿", "哪儿", "那儿")


def test_lessons_are_written_in_plain_southern_mandarin() -> None:
    for lesson in load_library(LIBRARY).lessons:
        for field in (lesson.title, lesson.summary, lesson.plain_text):
            for word in NORTHERN:
                assert word not in field, (lesson.slug, word)


def _as_framing(term: str) -> list[str]:
    return [term, f"今天想问问大家：{term}是什么？", f"大家说说，{term}跟我们有什么关系？",
            f"今天就讲到这里，{term}大家记住了吗？"]


@pytest.mark.parametrize("stem", sorted(REGIONS.values()))
def test_no_protected_wording_changes_in_any_sentence_or_official_formulation(
    stem: str,
) -> None:
    # Every sentence of every lesson, each flavoured as if it framed the lesson, and every
    # protected entry in framing sentences of its own.
    library = load_library(LIBRARY)
    lines = [s for lesson in library.lessons
             for s in sentences(f"{lesson.title}。{lesson.summary}\n{lesson.plain_text}")]
    lines += [s for term in PROTECTED for s in _as_framing(term)]
    flavoured = flavour_sentences(stem, tuple(lines))
    assert len(flavoured) == len(lines)
    checked = 0
    for before, after in zip(lines, flavoured, strict=True):
        assert after is not None, before
        if keeps_whole(before):
            assert after == before, (stem, before, after)
            checked += 1
        for term in PROTECTED_TERMS:
            assert after.count(term) == before.count(term), (stem, term, before, after)
    assert checked > len(PROTECTED)


def test_the_protected_list_is_reviewable_data() -> None:
    kinds = set(PROTECTED.values())
    assert kinds == WHOLE_SENTENCE_KINDS | {"term"}
    for term in ("和美乡村", "宜居宜业和美乡村", "乡村振兴", "共同富裕", "基层治理", "党和政府",
                 "人民群众", "全面从严治党", "习近平", "总书记", "党中央", "国务院", "村委会",
                 "派出所", "中央一号文件", "学校", "医院", "卫生院", "银行", "政府"):
        assert term in PROTECTED, term
    assert PROTECTED["和美乡村"] == "formulation" and PROTECTED["宅基地"] == "term"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [("乡村振兴", "term<TAB>kind"), ("乡村振兴\tslogan", "unknown kind"),
     ("党中央\tbody", "twice")],
)
def test_a_malformed_protected_line_is_named(tmp_path: Path, bad_line: str, message: str
                                            ) -> None:
    path = tmp_path / "protected.tsv"
    path.write_text(f"# c\nterm\tkind\n党中央\tbody\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"protected\.tsv:4: .*{message}"):
        read_protected(path)


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


# What the voice used to say, word for word, and the plain wording that produced it.
ISSUE_OUTPUTS = (
    "宜居宜业跟美乡村", "镇中心学堂", "要信党和政府", "作田补贴", "习近平总书记讲了么子吗",
    "晓得何解莫在耕地上盖房吗", "去过冇得", "跟咱庄稼人有啥关系", "我哋具体该点做呢",
    "讲讲红白喜事点算",
)
ISSUE_INPUTS = ("今天说说，怎样建设宜居宜业和美乡村？", "大家说说，镇中心学校怎么样？",
                "大家要相信党和政府，好不好？", "今天想问问大家：种地补贴领了吗？",
                "习近平总书记讲了什么吗？", "大家知道为什么不要在耕地上盖房吗？",
                "今天想问问大家：村里的新路，你去过没有？",
                "那咱们具体该怎么做呢？", "今天这堂课，跟大家说说红白喜事怎么办。")


@pytest.mark.parametrize("profile", sorted(REGIONS))
def test_none_of_the_bad_outputs_is_said_any_more(profile: str) -> None:
    said = [flavour(sentence, profile) for sentence in ISSUE_INPUTS]
    said += [flavour(lesson.plain_text, profile) for lesson in load_library(LIBRARY).lessons]
    for text in said:
        for bad in ISSUE_OUTPUTS:
            assert bad not in text, (profile, bad)
