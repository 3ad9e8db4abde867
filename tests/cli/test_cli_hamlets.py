"""`yehua groups hamlets` and `yehua groups assign-hamlet`: a group's 屋场 on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database, session
from bot.core.models import Hamlet, Member
from bot.settings import DEFAULT_LESSONS_DIR, load_settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"),
            "YEHUA_LESSONS_DIR": str(DEFAULT_LESSONS_DIR), "COLUMNS": "200"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_hamlets_are_added_listed_renamed_and_removed_and_members_placed(
    env: dict[str, str]
) -> None:
    assert yehua(env, "groups", "add", "枫树村大群", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, "groups", "hamlets", "fengshu")
    assert code == 0 and "还没有列出屋场" in out
    code, out = yehua(env, "groups", "hamlets", "fengshu", "add", "上湾")
    assert code == 0 and "已给群 #1 添加屋场「上湾」" in out
    assert yehua(env, "groups", "hamlets", "1", "add", "下湾")[0] == 0
    code, out = yehua(env, "groups", "hamlets", "枫树村大群", "add", "上湾")
    assert code == 1 and "已经有「上湾」" in out
    code, out = yehua(env, "groups", "hamlets", "fengshu", "move", "上湾")
    assert code == 1 and "用法" in out

    with session(open_database(load_settings(env).db_url)) as db:
        db.add(Member(group_id=1, user_id="u-zhang", display_name="张大爷"))
    code, out = yehua(env, "groups", "assign-hamlet", "fengshu", "u-zhang", "上湾")
    assert code == 0 and "张大爷 现在属于「上湾」" in out
    code, out = yehua(env, "groups", "assign-hamlet", "fengshu", "u-zhang", "中湾")
    assert code == 1 and "没有叫「中湾」的屋场" in out and "上湾、下湾" in out
    code, out = yehua(env, "groups", "assign-hamlet", "fengshu", "u-ghost", "上湾")
    assert code == 1 and "没有用户编号为 u-ghost 的人" in out

    assert "已改名为「上湾屋场」" in yehua(env, "groups", "hamlets", "fengshu", "rename", "上湾",
                                       "上湾屋场")[1]
    code, out = yehua(env, "groups", "hamlets", "fengshu")
    assert code == 0
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in out.splitlines() if line.count("│") == 3}
    assert rows == {"上湾屋场": "1", "下湾": "0"}
    code, out = yehua(env, "groups", "hamlets", "fengshu", "remove", "上湾屋场")
    assert code == 0 and "原有 1 人" in out
    with session(open_database(load_settings(env).db_url)) as db:
        member = db.exec(select(Member)).one()
        names = [h.name for h in db.exec(select(Hamlet))]
    assert member.hamlet_id is None and names == ["下湾"]


def test_a_report_can_be_narrowed_to_a_listed_hamlet_before_anyone_there_spoke(
        env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert yehua(env, "groups", "add", "枫树村大群", "--chat-id", "fengshu")[0] == 0
    assert yehua(env, "groups", "hamlets", "fengshu", "add", "上湾")[0] == 0
    code, out = yehua(env, "report", "--from", "2026-01-01", "--to", "2026-12-31",
                      "-g", "fengshu", "--hamlet", "上湾", "--format", "csv")
    assert code == 0, out
    assert "没有叫「上湾」的屋场" not in out and list(tmp_path.glob("*.csv"))
