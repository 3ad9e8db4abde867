"""`yehua points goods` and `yehua points redeem`: the points shop on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database, session
from bot.core.models import Member, PointsEntry, Redemption
from bot.domain.shop_receipts import RECEIPT_KIND
from bot.settings import DEFAULT_LESSONS_DIR, load_settings
from scheduler.models import Timer


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"),
            "YEHUA_LESSONS_DIR": str(DEFAULT_LESSONS_DIR), "COLUMNS": "200"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_goods_are_added_listed_edited_and_a_redemption_is_recorded_with_its_receipt_queued(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "雨坛村大群", "--chat-id", "yutan")[0] == 0
    with session(open_database(load_settings(env).db_url)) as db:
        db.add(Member(group_id=1, user_id="u-wang", display_name="王奶奶"))
        db.add(PointsEntry(group_id=1, user_id="u-wang", user_name="王奶奶", reason="listen",
                           ref="d1", points=75))
    code, out = yehua(env, "points", "goods", "--group", "yutan")
    assert code == 0 and "积分超市里还没有商品" in out
    code, out = yehua(env, "points", "goods", "add", "--group", "yutan", "--name", "洗衣粉",
                      "--price", "30", "--stock", "1")
    assert code == 0 and "已添加「洗衣粉」" in out
    code, out = yehua(env, "points", "goods", "add", "--group", "yutan", "--name", "洗衣粉",
                      "--price", "20")
    assert code == 1 and "已经有「洗衣粉」" in out
    code, out = yehua(env, "points", "goods", "add", "--group", "yutan", "--name", "香皂",
                      "--price", "0")
    assert code == 1 and "价格要写成 1 到" in out
    code, out = yehua(env, "points", "goods", "edit", "--group", "yutan", "--name", "洗衣粉",
                      "--stock", "3")
    assert code == 0 and "「洗衣粉」已保存" in out
    # add left out: not a list that looks as if 香皂 went in
    code, out = yehua(env, "points", "goods", "-g", "yutan", "--name", "香皂", "--price", "3")
    assert code == 1 and "用法：yehua points goods [list | add | edit]" in out

    code, out = yehua(env, "points", "redeem", "--group", "yutan", "--user", "王奶奶",
                      "--good", "洗衣粉", "--quantity", "2")
    assert code == 0 and "王奶奶 用 60 分换了 洗衣粉 ×2，还剩 15 分" in out
    code, out = yehua(env, "points", "redeem", "--group", "yutan", "--user", "u-wang",
                      "--good", "洗衣粉")
    assert code == 1 and "积分不够" in out and "现在只有 15 分" in out
    code, out = yehua(env, "points", "redeem", "--group", "yutan", "--user", "赵六",
                      "--good", "洗衣粉")
    assert code == 1 and "群里没找到「赵六」" in out

    code, out = yehua(env, "points", "goods", "edit", "--group", "yutan", "--name", "洗衣粉",
                      "--off")
    assert code == 0
    code, out = yehua(env, "points", "goods", "list", "--group", "yutan")
    rows = [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in out.splitlines() if line.count("│") == 5]
    assert code == 0 and rows == [["洗衣粉", "30", "1", "已下架"]]
    with session(open_database(load_settings(env).db_url)) as db:
        assert [(r.user_name, r.quantity, r.points, r.by_name)
                for r in db.exec(select(Redemption))] == [("王奶奶", 2, 60, "命令行")]
        assert [t.ref for t in db.exec(select(Timer).where(Timer.kind == RECEIPT_KIND))] == [
            "redemption:1"]
