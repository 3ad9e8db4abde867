"""`yehua suggestion`: assigning from the shell; the running bot tells the handler."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.app import SCHEDULER, SERVICES
from bot.cli.main import app as cli
from bot.settings import Settings
from tests.support.app import running
from tests.support.village import (
    FACILITATOR,
    SECRETARY,
    ZHANG,
    joined,
    prepare_village,
    suggestions,
)


def yehua(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"YEHUA_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


async def test_assigning_from_the_shell_is_stored_listed_and_told_by_the_running_bot(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, \
            joined(bot.url, ZHANG) as zhang, joined(bot.url, SECRETARY) as secretary, \
            joined(bot.url, FACILITATOR) as libo:
        await zhang.ask("建议 村口路灯坏了")
        await zhang.ask("建议 路上有个大坑")
        await secretary.ask("/采纳 1 好")
        code, out = yehua(settings, "suggestion", "assign", "1", "李伯", "--due", "5天内")
        assert code == 0, out
        assert "第 1 号建议已交给 李伯 办" in out and "私下告诉 李伯" in out
        code, out = yehua(settings, "suggestion", "assign", "2", "李伯")
        assert code == 1 and "只有已采纳、办理中的建议可以交办" in out
        code, out = yehua(settings, "suggestion", "assign", "1", "王师傅", "--phone", "12")
        assert code == 1 and "电话「12」看着不对" in out
        code, out = yehua(settings, "suggestion", "assign", "1", "老陈")
        assert code == 1 and "群里没找到「老陈」" in out
        assert "--phone" in out and "/交办" not in out  # the shell's example, not the chat's
        code, out = yehua(settings, "suggestion", "todo")
        assert code == 0 and "李伯" in out and "村口路灯坏了" in out
        await bot.app[SCHEDULER].fire_timers(bot.app[SERVICES].clock())
        told = await libo.sees("交给您一件事")
    assert "第 1 号建议（张大爷：村口路灯坏了）" in told
    first, second = suggestions(bot.app)
    assert first.handler_user_id == FACILITATOR[0] and second.assigned_at is None
