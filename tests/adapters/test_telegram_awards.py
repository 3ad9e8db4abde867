"""Points given by hand on Telegram: a text_mention names the member, told by direct message."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Group, Role
from bot.settings import Settings
from tests.support.app import running
from tests.support.builders import add_member
from tests.support.fakes.telegram import FakeTelegram
from tests.support.points_list import TOILET, add_items, entries
from tests.support.polling import eventually
from tests.support.telegram import HOST, VILLAGE, ZHANG, answer_to, groups, on_telegram


def prepare(app: web.Application) -> None:
    """The village group with a facilitator, another 大爷, and 改厕 on its list."""
    groups()(app)
    with session(app[ENGINE]) as db:
        group_id = db.exec(select(Group.id).where(Group.chat_id == str(VILLAGE))).one()
    assert group_id is not None
    add_member(app[ENGINE], group_id, str(HOST["id"]), "李伯", role=Role.FACILITATOR)
    add_member(app[ENGINE], group_id, "6001002077", "王大爷")
    add_items(app[ENGINE], str(VILLAGE), TOILET)


async def test_a_text_mention_names_the_member_and_they_are_told_directly(
        settings: Settings, telegram: FakeTelegram) -> None:
    telegram.start_bot(ZHANG)
    async with running(on_telegram(settings, telegram), prepare) as bot:
        telegram.say(VILLAGE, ZHANG, "建议 村口修个厕所")
        await eventually(lambda: entries(bot.app))  # 张大爷 is known to the group now
        asked = await answer_to(telegram, telegram.say(VILLAGE, HOST, "/加分 大爷 改厕"))
        assert "叫「大爷」的有好几位" in asked.text
        text = "/加分 大爷 改厕 化粪池修好了"
        mention = {"type": "text_mention", "offset": 4, "length": 2, "user": ZHANG}
        update = telegram.enqueue({"message": {
            "message_id": 9001, "date": 1764100000, "from": {"is_bot": False, **HOST},
            "chat": {"id": VILLAGE, "type": "supergroup", "title": "枫树村村民群"},
            "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": 3},
                                       mention]}})
        await answer_to(telegram, update, "已给张大爷记「改厕」")
        told = await eventually(lambda: next(
            (s.text for s in telegram.to(int(ZHANG["id"]), "text") if "改厕" in s.text), None))
    assert "您因「改厕」得了 20 分" in told and "化粪池修好了" in told
    assert [(e.user_id, e.points, e.by_name) for e in entries(bot.app)] == [
        (str(ZHANG["id"]), 2, None), (str(ZHANG["id"]), 20, "李伯")]
