"""`yehua nighttalk add` says the time it read and asks before the group is told; series."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database, session
from bot.core.models import NightTalk, NightTalkSeries, NightTalkSeriesStatus, NightTalkStatus

ADD = ("nighttalk", "add", "-g", "fengshu", "--topic", "村里修路")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"YEHUA_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    return env


def yehua(env: dict[str, str], *args: str, answer: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=answer)
    return result.exit_code, result.output


def talks(env: dict[str, str]) -> list[NightTalk]:
    engine = open_database(f"sqlite:///{Path(env['YEHUA_DATA_DIR']) / 'yehua.db'}")
    try:
        with session(engine) as db:
            return list(db.exec(select(NightTalk).order_by(col(NightTalk.id))))
    finally:
        engine.dispose()


def series_status(env: dict[str, str]) -> list[NightTalkSeriesStatus]:
    engine = open_database(f"sqlite:///{Path(env['YEHUA_DATA_DIR']) / 'yehua.db'}")
    try:
        with session(engine) as db:
            return [s.status for s in db.exec(select(NightTalkSeries))]
    finally:
        engine.dispose()


def test_the_time_is_said_in_words_and_only_a_yes_schedules(env: dict[str, str]) -> None:
    code, out = yehua(env, *ADD, "--at", "2030-12-05 7点", answer="n\n")
    assert "看到的是：2030年12月5日（星期四）晚上7点" in out  # a bare hour is the evening's
    assert "对吗？" in out and code == 1 and "没有安排" in out
    assert talks(env) == []
    code, out = yehua(env, *ADD, "--at", "2030-12-05 7点", answer="y\n")
    assert code == 0, out
    assert "已安排夜话 #1：2030年12月5日（星期四）晚上7点" in out
    [talk] = talks(env)
    assert talk.status is NightTalkStatus.SCHEDULED


def test_the_question_is_answered_in_chinese_and_asked_again_when_unclear(
        env: dict[str, str]) -> None:
    code, out = yehua(env, *ADD, "--at", "2030-12-05 19:30", answer="不\n")
    assert code == 1 and "没有安排" in out and talks(env) == []
    code, out = yehua(env, *ADD, "--at", "2030-12-05 19:30", answer="嗯嗯\n是\n")
    assert "请回“是”或“不”" in out  # 嗯嗯 says neither: asked again
    assert code == 0 and "已安排夜话 #1" in out and len(talks(env)) == 1


def test_the_place_and_the_host_are_said_back_too(env: dict[str, str]) -> None:
    code, out = yehua(env, *ADD, "--at", "2030-12-05 19:30", "--place", "祠堂", "--host", "李伯",
                      answer="不\n")
    assert "“村里修路”，地点：祠堂，主持：李伯。" in out.replace("\n", ""), out
    assert code == 1 and talks(env) == []  # answered 不: nothing scheduled


def test_without_a_terminal_it_refuses_and_names_yes(env: dict[str, str]) -> None:
    code, out = yehua(env, *ADD, "--at", "2030-12-05 19:30")
    assert code == 1 and "--yes" in out and talks(env) == []
    code, out = yehua(env, *ADD, "--at", "2030-12-05 19:30", "--yes")
    assert code == 0 and "已安排夜话 #1" in out and "对吗" not in out


def test_a_past_time_is_refused_before_anything_is_asked(env: dict[str, str]) -> None:
    code, out = yehua(env, *ADD, "--at", "2020-12-05 19:30", answer="y\n")
    assert code == 1 and "已经过去了" in out and "对吗" not in out
    assert talks(env) == []


def test_a_series_is_listed_and_cancelled_one_talk_or_all(env: dict[str, str]) -> None:
    code, out = yehua(env, *ADD, "--at", "每月第一个周五晚上7点半", "--yes")
    assert code == 0, out
    assert "每月第一个星期五 晚上7点半" in out and "下一次是夜话 #1" in out
    [first] = talks(env)
    assert first.series_id is not None
    code, out = yehua(env, "nighttalk", "list")
    assert "重复的夜话" in out and "每月第一个星期五 晚上7点半" in out and "#1" in out

    code, out = yehua(env, "nighttalk", "cancel", "1")
    assert code == 0 and "夜话 #1 已取消" in out
    first, second = talks(env)
    assert second.status is NightTalkStatus.SCHEDULED and second.series_id == first.series_id
    assert second.starts_at > first.starts_at
    assert "#2" in yehua(env, "nighttalk", "list")[1]

    code, out = yehua(env, "nighttalk", "cancel", "2", "--series")
    assert code == 0 and "以后不再开" in out
    assert [t.status for t in talks(env)] == [NightTalkStatus.CANCELLED] * 2
    assert series_status(env) == [NightTalkSeriesStatus.CANCELLED]
    assert "重复的夜话" not in yehua(env, "nighttalk", "list")[1]
    code, out = yehua(env, *ADD, "--at", "2030-12-05 19:30", "--yes")
    code, out = yehua(env, "nighttalk", "cancel", "3", "--series")
    assert code == 1 and "不是重复夜话" in out
