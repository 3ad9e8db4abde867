"""QQ through OneBot v11: suggestions however members start them, bare commands, plain chat."""

from __future__ import annotations

from bot.app import SERVICES
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, LI, ZHANG, prepare_qq_groups, said, stored, with_onebot
from tests.support.recordings import recording


async def test_qq_members_raise_suggestions_as_they_type_and_plain_chat_is_left_alone(
    settings: Settings, napcat: FakeNapCat
) -> None:
    lines = [(ZHANG, "张大爷", "我想提個建議：河邊裝個護欄"),
             (LI, "李婶", "我觉得这个建议很好"),
             (LI, "李婶", "提个建议村口修个路灯"),
             (ZHANG, "张大爷", "他建议我明天去镇上"),
             (ZHANG, "张大爷", "积分")]
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        for who, card, text in lines:
            event = napcat.group_message(GROUP, who, said(text), card=card)
            assert (await napcat.post_event(bot.url, event))[0] == 204
        await bot.app[SERVICES].replies.drain()
        rows = stored(bot.app)
        # Every answer is for its asker alone: a private message each, nothing in the group.
        answers = [sent.text for sent in napcat.sent]
        assert napcat.in_group(GROUP) == []
    assert [(r.author_name, r.text) for r in rows] == [
        ("张大爷", "河邊裝個護欄"), ("李婶", "村口修个路灯")]
    assert len(answers) == 3  # two numbers and the points; the two remarks got no answer
    assert "第 1 号" in answers[0] and "第 2 号" in answers[1]
    assert answers[2].startswith("张大爷，您一共有") and "排第 1 名" in answers[2]


async def test_a_qq_voice_outside_a_talk_is_asked_about_and_yes_makes_it_a_suggestion(
    settings: Settings, napcat: FakeNapCat
) -> None:
    napcat.voices["5a1b2c3d.amr"] = recording(2.0, container="mp3", codec="libmp3lame",
                                              rate=24_000, bit_rate=48_000)
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        voice = napcat.group_message(GROUP, ZHANG, [{"type": "record", "data": {
            "file": "5a1b2c3d.amr", "file_size": "6128"}}], card="张大爷")
        assert (await napcat.post_event(bot.url, voice))[0] == 204
        await bot.app[SERVICES].replies.drain()
        [question] = napcat.in_group(GROUP)
        assert stored(bot.app) == []
        # 李婶's 「好」 answers someone else; only the asked member's 「好的」 counts.
        for who, card, text in [(LI, "李婶", "好"), (ZHANG, "张大爷", "好的")]:
            event = napcat.group_message(GROUP, who, said(text), card=card)
            assert (await napcat.post_event(bot.url, event))[0] == 204
        await bot.app[SERVICES].replies.drain()
        rows = stored(bot.app)
        in_group = [sent.text for sent in napcat.in_group(GROUP)]
        answers = [sent.text for sent in napcat.to_user(ZHANG)]
    assert question.text == "要把这段语音记成建议吗？回「是」就记上。"
    assert question.first("reply") == {"id": str(voice["message_id"])}
    assert [(r.author_name, r.voice_path is not None) for r in rows] == [("张大爷", True)]
    # The number comes to him alone; the group saw only the question.
    assert in_group == [question.text]
    assert len(answers) == 1 and "语音建议" in answers[0] and "第 1 号" in answers[0]
