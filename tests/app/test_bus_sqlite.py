"""One instance on SQLite: the `yehua` command wakes the running bot at once."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.bus import wake_path
from bot.settings import DEFAULT_LESSONS_DIR, Settings
from tests.app.test_bus import OPENING, talk_ahead
from tests.support.app import running
from tests.support.polling import eventually
from tests.support.process import bot_env, yehua
from tests.support.village import ROOM, ZHANG, prepare_village
from tests.support.watch import watching


def leave_a_stale_socket(settings: Settings) -> None:
    """What a bot killed -9 leaves behind: the socket file, with nobody reading it."""
    settings.data_dir.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as stale:
        stale.bind(str(wake_path(settings.data_dir)))


async def test_a_talk_the_command_opens_is_announced_at_once(
        settings: Settings) -> None:
    leave_a_stale_socket(settings)
    env = bot_env(settings.data_dir, YEHUA_LESSONS_DIR=str(DEFAULT_LESSONS_DIR))
    async with running(settings, talk_ahead) as bot, watching(bot.url, ZHANG) as zhang:
        done = await yehua("nighttalk", "open", "1", env=env)
        assert done.code == 0, done.err
        # Well before the scheduler's one-minute look at the database.
        await zhang.sees(OPENING, within=10)
        await zhang.post("我来了")
        await zhang.sees("我来了")
        assert len(zhang.with_text(OPENING)) == 1
    assert not wake_path(settings.data_dir).exists()


async def test_a_lesson_the_command_schedules_is_posted_on_its_minute(
        settings: Settings) -> None:
    env = bot_env(settings.data_dir, YEHUA_LESSONS_DIR=str(DEFAULT_LESSONS_DIR))
    async with running(settings, prepare_village) as bot, watching(bot.url, ZHANG) as zhang:
        zone = ZoneInfo("Asia/Shanghai")
        # The command takes a minute of the clock; the next whole one that leaves it time to run.
        due = (datetime.now(zone) + timedelta(seconds=70)).replace(second=0, microsecond=0)
        done = await yehua("schedule", "add", "telecom-fraud", "-g", ROOM,
                           "--at", f"{due:%H:%M}", env=env)
        assert done.code == 0, done.out + done.err
        wait = (due - datetime.now(zone)).total_seconds()
        # Not at the scheduler's next one-minute look at the database: on the minute.
        await eventually(lambda: [message for message in zhang.shown
                                  if message["lesson_slug"] == "telecom-fraud"], within=wait + 10)
