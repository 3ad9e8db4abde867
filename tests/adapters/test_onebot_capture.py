"""QQ through OneBot v11: suggestions however members start them, bare commands, plain chat."""

from __future__ import annotations

from bot.app import SERVICES
from bot.settings import Settings
from tests.support.app import running
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, LI, ZHANG, prepare_qq_groups, said, stored, with_onebot


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
