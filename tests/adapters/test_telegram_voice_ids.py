"""Telegram voice notes by file_id: a lesson's audio is uploaded once, then sent by its id."""

from __future__ import annotations

from aiohttp import web

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import Group
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import running
from tests.support.fakes.telegram import FakeTelegram
from tests.support.polling import eventually
from tests.support.telegram import deliveries, groups, on_telegram, post_lesson

CHATS = [-1001000000200 - n for n in range(8)]
LATER = -1001000000300


def _voice_sends(telegram: FakeTelegram) -> tuple[int, int]:
    """sendVoice calls that carried the file's bytes, and those that named a file_id."""
    calls = telegram.called("sendVoice")
    return (sum(isinstance(c.get("voice"), bytes) for c in calls),
            sum(isinstance(c.get("voice"), str) for c in calls))


async def test_a_lesson_to_many_groups_uploads_its_voice_once_and_every_group_hears_it(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups(*CHATS)) as bot:
        await post_lesson(bot.app)
        await eventually(lambda: [d.status for d in deliveries(bot.app)]
                         == [DeliveryStatus.SENT] * len(CHATS), within=30)
        voices = [v for chat_id in CHATS for v in telegram.to(chat_id, "voice")]
        assert len(voices) == len(CHATS)
        assert telegram.voice_uploads == 1
        assert _voice_sends(telegram) == (1, len(CHATS) - 1)
        # Every group got the one recording, played through to its end.
        assert len({v.voice for v in voices}) == 1
        assert all(v.seconds > 5 and v.text == "电动车充电，安全第一" for v in voices)
        assert telegram.floods == 0


async def _post_to(app: web.Application, chat_id: int) -> None:
    """A group joins, and the same lesson is scheduled for it now."""
    with session(app[ENGINE]) as db:
        group = Group(platform="telegram", chat_id=str(chat_id), name=f"群{chat_id}")
        db.add(group)
        db.flush()
        add_schedule(db, "ebike-charging", [(group.id or 0, group.timezone)], run_at=utcnow())
    await app[SCHEDULER].run_due()


async def test_a_refused_file_id_is_uploaded_again_and_the_group_still_hears_the_lesson(
    settings: Settings, telegram: FakeTelegram
) -> None:
    async with running(on_telegram(settings, telegram), groups(CHATS[0])) as bot:
        await post_lesson(bot.app)
        [first] = await eventually(lambda: telegram.to(CHATS[0], "voice"))
        # Telegram no longer knows the id the bot was given for this file.
        telegram.forget_voices()
        await _post_to(bot.app, LATER)
        [voice] = await eventually(lambda: telegram.to(LATER, "voice"))
        assert voice.voice == first.voice and voice.seconds == first.seconds
        assert _voice_sends(telegram) == (2, 1), "refused by its id once, then uploaded"
        # The id of the new upload is the one kept: the next group's voice goes by it.
        await _post_to(bot.app, LATER - 1)
        [third] = await eventually(lambda: telegram.to(LATER - 1, "voice"))
        assert third.voice == first.voice
        assert _voice_sends(telegram) == (2, 2)
        await eventually(lambda: [d.status for d in deliveries(bot.app)]
                         == [DeliveryStatus.SENT] * 3)
