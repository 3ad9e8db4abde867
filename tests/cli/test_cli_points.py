"""`yehua points …`: the points list, awarding, revoking and villages on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database, session
from bot.core.models import Group, Member, PointsEntry, PointsItem, Village
from bot.domain.points import standing
from bot.settings import DEFAULT_LESSONS_DIR, load_settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"),
            "YEHUA_LESSONS_DIR": str(DEFAULT_LESSONS_DIR), "COLUMNS": "200",
            "YEHUA_POINTS_SUGGEST": "3"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def rows_of(out: str) -> dict[str, list[str]]:
    """A Rich table's rows by their second cell (the name)."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in out.splitlines() if line.count("│") == 9]
    return {row[1]: row for row in rows}


def test_a_group_added_has_its_village_and_the_built_ins_before_its_first_message(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树村大群", "--chat-id", "fengshu")[0] == 0
    with session(open_database(load_settings(env).db_url)) as db:
        [group] = db.exec(select(Group))
        village = db.get(Village, group.village_id)
        assert village is not None and village.name == "枫树村大群"
        items = {item.name: (item.kind, item.points) for item in db.exec(
            select(PointsItem).where(PointsItem.village_id == village.id))}
    assert items == {"听微党课": ("listen", 1), "提建议": ("suggest", 3),
                     "建议被采纳": ("adopted", 5)}


def test_items_are_listed_added_and_edited_with_the_built_ins_from_the_settings(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树村大群", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, "points", "items", "add", "红十条", "-g", "fengshu", "--points",
                      "-10", "--role", "secretary")
    assert code == 0 and "已添加" in out and "扣 10 分" in out
    code, out = yehua(env, "points", "items", "add", "改厕", "-g", "fengshu", "--points", "20",
                      "--yearly", "1", "--photo")
    assert code == 0
    code, out = yehua(env, "points", "items", "add", "改厕", "-g", "fengshu", "--points", "5")
    assert code == 1 and "已经有「改厕」" in out
    code, out = yehua(env, "points", "items", "add", "空", "-g", "fengshu", "--points", "0")
    assert code == 1 and "不为 0" in out
    code, out = yehua(env, "points", "items", "edit", "改厕", "-g", "fengshu", "--points", "30",
                      "--yearly", "0", "--no-photo")
    assert code == 0 and "以前给过的分不变" in out
    code, out = yehua(env, "points", "items", "edit", "提建议", "-g", "fengshu", "--inactive")
    assert code == 0
    code, out = yehua(env, "points", "items", "list", "-g", "fengshu")
    assert code == 0
    rows = rows_of(out)
    assert rows["提建议"][2:] == ["+3", "机器人自动给", "不限", "不限", "否", "已停用"]
    assert rows["改厕"][2:] == ["+30", "话事佬及以上", "不限", "不限", "否", "在用"]
    assert rows["红十条"][2:] == ["-10", "书记或文书及以上", "不限", "不限", "否", "在用"]
    assert set(rows) == {"听微党课", "提建议", "建议被采纳", "改厕", "红十条"}


def test_points_are_awarded_revoked_and_groups_joined_into_one_village(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树村大群", "--chat-id", "fengshu")[0] == 0
    assert yehua(env, "groups", "add", "枫树村QQ群", "--chat-id", "8888",
                 "--platform", "onebot")[0] == 0
    engine = open_database(load_settings(env).db_url)
    with session(engine) as db:
        db.add(Member(group_id=1, user_id="u-zhang", display_name="张大爷"))
        db.add(Member(group_id=2, user_id="u-li", display_name="李婶"))
    assert yehua(env, "points", "items", "add", "改厕", "-g", "fengshu", "--points", "20",
                 "--photo")[0] == 0
    code, out = yehua(env, "points", "award", "-g", "fengshu", "--user", "张大爷", "--item",
                      "改厕")
    assert code == 1 and "要有照片为证" in out and "--photo-seen" in out
    code, out = yehua(env, "points", "award", "-g", "fengshu", "--user", "张大爷", "--item",
                      "改厕", "--note", "化粪池修好了", "--photo-seen")
    assert code == 0 and "已给 张大爷 记「改厕」，加 20 分（第 1 号）" in out
    code, out = yehua(env, "points", "award", "-g", "8888", "--user", "李婶", "--item", "改厕")
    assert code == 1 and "没有「改厕」" in out  # the QQ group is a village of its own so far
    code, out = yehua(env, "points", "village", "8888", "--join", "fengshu")
    assert code == 0 and "已并入「枫树村大群」" in out
    code, out = yehua(env, "points", "village", "8888", "--join", "fengshu")
    assert code == 0 and "本来就在同一个村，没有改动" in out  # not "joined" again
    code, out = yehua(env, "points", "village", "fengshu", "--join", "fengshu")
    assert code == 0 and "本来就在同一个村" in out
    code, out = yehua(env, "points", "award", "-g", "8888", "--user", "李婶", "--item", "改厕",
                      "--photo-seen")
    assert code == 0 and "第 2 号" in out
    code, out = yehua(env, "points", "revoke", "1", "--reason", "记错人了")
    assert code == 0 and "第 1 号已撤销" in out
    code, out = yehua(env, "points", "revoke", "1", "--reason", "再来")
    assert code == 1 and "撤销过了" in out
    code, out = yehua(env, "points", "revoke", "9", "--reason", "没有")
    assert code == 1 and "没有第 9 号" in out
    with session(engine) as db:
        entries = list(db.exec(select(PointsEntry).order_by(col(PointsEntry.id))))
        assert [(e.user_id, e.points, e.by_name, e.note) for e in entries] == [
            ("u-zhang", 20, "命令行", "化粪池修好了"), ("u-li", 20, "命令行", "")]
        assert entries[0].revoke_reason == "记错人了"
        assert standing(db, 1, "u-zhang")[0] == 0
        groups = list(db.exec(select(Group)))
        assert len({g.village_id for g in groups}) == 1


def test_an_item_the_bot_gives_by_itself_or_one_not_listed_is_named_plainly(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树村大群", "--chat-id", "fengshu")[0] == 0
    engine = open_database(load_settings(env).db_url)
    with session(engine) as db:
        db.add(Member(group_id=1, user_id="u-zhang", display_name="张大爷"))
    engine.dispose()
    assert yehua(env, "points", "items", "add", "改厕", "-g", "fengshu", "--points", "20")[0] == 0
    code, out = yehua(env, "points", "award", "-g", "fengshu", "--user", "张大爷", "--item",
                      "听微党课")
    assert code == 1 and "「听微党课」是机器人自动给的" in out.replace("\n", "")
    code, out = yehua(env, "points", "items", "edit", "不存在", "-g", "fengshu", "--points", "3")
    assert code == 1 and "积分清单里没有「不存在」。现有的：" in out
    assert "改厕" in out and "yehua points items list" not in out
