"""The recogniser of how people start a suggestion or name a command, on real-looking lines."""

from __future__ import annotations

import pytest

from bot.chat.phrasing import agrees, bare_word, simplified_head, suggestion_body

RAISED = [
    ("建议 村口路灯坏了", "村口路灯坏了"),
    ("建议：垃圾好几天没人收了", "垃圾好几天没人收了"),
    ("建议:晚上巡逻多安排几个人", "晚上巡逻多安排几个人"),
    ("建议村口修个路灯", "村口修个路灯"),
    ("建议，把东头的水渠清一清", "把东头的水渠清一清"),
    ("我建议村里搞个老年食堂", "村里搞个老年食堂"),
    ("我建议：医保缴费能在村里办", "医保缴费能在村里办"),
    ("提个建议：广场舞音响晚上九点后关小点", "广场舞音响晚上九点后关小点"),
    ("提个建议 小学门口装个减速带", "小学门口装个减速带"),
    ("有个建议，垃圾桶多放几个", "垃圾桶多放几个"),
    ("我有个建议：村部开个代缴点", "村部开个代缴点"),
    ("我想提个建议，河边装个护栏", "河边装个护栏"),
    ("我想提个建议:公交站加个棚子", "公交站加个棚子"),
    ("建議 村口路燈壞了", "村口路燈壞了"),  # stored as the member wrote it
    ("我建議：祠堂前面的路修一修", "祠堂前面的路修一修"),
    ("我想提個建議，河邊裝個護欄", "河邊裝個護欄"),
    ("  建议好好整治一下乱停车  ", "好好整治一下乱停车"),
    ("建议不要在田里烧秸秆", "不要在田里烧秸秆"),
    ("#建议 修一下东头的水渠", "修一下东头的水渠"),
]

NOT_RAISED = [
    "我觉得这个建议很好",
    "他建议我明天去",
    "你们的建议我都看了",
    "建议很好，我同意",
    "建议不错",
    "建议是好建议，就是没钱",
    "我建议的那个事怎么样了",
    "我建议过了，没人理",
    "村里采纳了大家的建议",
    "谁有积分卡",
    "帮助一下老人",
    "医生建议多走动",
    "这个建议提了好几次了",
    "好的",
    "我有个建议想跟大家说说",
]


@pytest.mark.parametrize(("line", "body"), RAISED)
def test_a_suggestion_is_recognised_however_it_is_started(line: str, body: str) -> None:
    assert suggestion_body(line) == body


@pytest.mark.parametrize("line", NOT_RAISED)
def test_chat_that_merely_mentions_a_suggestion_raises_none(line: str) -> None:
    assert suggestion_body(line) is None


@pytest.mark.parametrize("line", ["建议", "我有个建议", "提个建议：", "建議"])
def test_a_lead_in_alone_raises_an_empty_suggestion_to_ask_for_the_rest(line: str) -> None:
    assert suggestion_body(line) == ""


@pytest.mark.parametrize(("line", "word"), [
    ("积分", "积分"), (" 帮助！", "帮助"), ("重听。", "重听"), ("我的建議？", "我的建议"),
    ("積分!", "积分"), ("帮助一下老人", "帮助一下老人")])
def test_a_whole_message_reads_as_one_simplified_word(line: str, word: str) -> None:
    assert bare_word(line) == word


def test_a_bare_yes_is_an_answer_and_a_sentence_starting_with_one_is_not() -> None:
    assert all(agrees(line) for line in ["是", "是的。", " 好的！", "記上", "要", "记上吧~"])
    assert not any(agrees(line) for line in [
        "是不是", "好啊我明天去", "好好学习", "要不要", "是的，我明天去镇上", "好的话就去", ""])


def test_every_character_reads_as_its_simplified_form_whether_or_not_the_head_is_translated(
        ) -> None:
    """A head is left untranslated when it holds no character whose simplified form differs:
    each character must then read exactly as the converter reads it on its own."""
    from opencc import OpenCC

    converter = OpenCC("t2s")
    for code in [*range(0x4E00, 0xA000), 0x2B748, 0x20000]:
        char = chr(code)
        alone = converter.convert(char)
        expected = alone if len(alone) == 1 else char
        assert simplified_head("我" + char) == "我" + expected, hex(code)
