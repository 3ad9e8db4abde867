"""The `yehua` command as a facilitator uses it: lessons, groups and schedules."""

from __future__ import annotations

import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.adapter import PLATFORM_NAMES
from bot.core.db import open_database, session
from bot.settings import DEFAULT_LESSONS_DIR
from lessons.library import load_library
from scheduler.schedules import list_schedules
from tests.support.loopback import free_port


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"),
            "YEHUA_LESSONS_DIR": str(DEFAULT_LESSONS_DIR), "COLUMNS": "200"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_lessons_list_shows_every_shipped_lesson(env: dict[str, str]) -> None:
    code, out = yehua(env, "lessons", "list")
    assert code == 0
    for slug in ("telecom-fraud", "medical-insurance", "ebike-charging", "village-rules"):
        assert slug in out


def test_lessons_check_passes_on_the_library_and_fails_naming_file_and_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert yehua(env, "lessons", "check")[0] == 0
    folder = tmp_path / "lessons"
    shutil.copytree(DEFAULT_LESSONS_DIR, folder)
    (folder / "bad.md").write_text("---\ntitle: 坏课\nspeaker: 某人\ndate: 2026-02-30\n"
                                   "tags: [x]\nsummary: s\n---\n乡亲们好！\n", encoding="utf-8")
    code, out = yehua({**env, "YEHUA_LESSONS_DIR": str(folder)}, "lessons", "check")
    assert code == 1
    assert "bad.md:4:" in out
    assert f"{len(load_library(DEFAULT_LESSONS_DIR).lessons)} 课正常" in out


def test_schedule_add_list_cancel_round_trip(env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, "schedule", "add", "telecom-fraud", "-g", "fengshu",
                      "--cron", "0 20 * * 5")
    assert code == 0, out
    assert "已安排 #1" in out
    code, out = yehua(env, "schedule", "list")
    assert "telecom-fraud" in out and "枫树屋场" in out and "20:00" in out
    assert yehua(env, "schedule", "cancel", "1")[0] == 0
    assert "telecom-fraud" not in yehua(env, "schedule", "list")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "add", "no-such", "-g", "fengshu", "--at", "20:00"], "没有「no-such」"),
        (["schedule", "add", "telecom-fraud", "-g", "nowhere", "--at", "20:00"], "找不到群"),
        (["schedule", "add", "telecom-fraud", "-g", "fengshu", "--at", "明晚"], "看不懂"),
        (["schedule", "add", "telecom-fraud", "-g", "fengshu", "--cron", "every day"], "无法识别"),
        (["schedule", "add", "telecom-fraud", "-g", "fengshu"], "二选一"),
        (["schedule", "cancel", "42"], "42"),
    ],
)
def test_bad_schedule_requests_say_what_is_wrong_and_change_nothing(
    env: dict[str, str], args: list[str], message: str
) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, *args)
    assert code != 0
    assert message in out
    engine = open_database(f"sqlite:///{env['YEHUA_DATA_DIR']}/yehua.db")
    with session(engine) as db:
        assert list_schedules(db, include_cancelled=True) == []
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["groups", "add", "枫树屋场", "--chat-id", "8888", "--platform", "wechat"],
         "平台「wechat」不认识"),
        (["groups", "add", " ", "--chat-id", "fengshu"], "请写上群名"),
        (["groups", "add", "枫树屋场", "--chat-id", "村 口 群"], "中间不能有空格"),
        (["groups", "add", "枫树屋场", "--chat-id", ""], "要写上"),
    ],
)
def test_a_group_the_bot_could_never_serve_is_not_added(
    env: dict[str, str], args: list[str], message: str
) -> None:
    code, out = yehua(env, *args)
    assert code == 1 and message in out
    assert "枫树屋场" not in yehua(env, "groups", "list")[1]


def test_groups_are_added_by_the_names_people_use_and_shown_as_typed(
        env: dict[str, str]) -> None:
    code, out = yehua(env, "groups", "add", "枫树村QQ群", "--chat-id", "8888", "--platform",
                      "QQ")
    assert code == 0, out
    code, out = yehua(env, "groups", "add", "[b]二组[/b]", "--chat-id", "ergroup")
    assert code == 0 and "「[b]二组[/b]」" in out  # brackets are part of the name
    code, listed = yehua(env, "groups", "list")
    assert "onebot" in listed and "[b]二组[/b]" in listed
    code, out = yehua(env, "groups", "add", "[/]", "--chat-id", "bracket")
    assert code == 0 and "「[/]」" in out  # not a markup error after the group was stored
    code, out = yehua(env, "schedule", "add", "telecom-fraud", "-g", "[/b]", "--at", "20:00")
    assert code == 1 and "找不到群「[/b]」" in out


def test_a_lesson_for_a_group_name_two_groups_share_is_refused(env: dict[str, str]) -> None:
    for chat in ("fengshu", "fengshu2"):
        assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", chat)[0] == 0
    code, out = yehua(env, "schedule", "add", "telecom-fraud", "-g", "枫树屋场", "--at",
                      "2030-12-21 20:00")
    assert code == 1 and "不止一个" in out
    code, out = yehua(env, "schedule", "add", "telecom-fraud", "-g", "fengshu2", "--at",
                      "2030-12-21 20:00")
    assert code == 0 and "→ 枫树屋场" in out and "枫树屋场、" not in out
    assert "第一次在2030年12月21日（星期六）晚上8点发" in out.replace("\n", "")
    code, out = yehua(env, "schedule", "add", "telecom-fraud", "-g", "fengshu2", "--at",
                      "2030-12-22 8:00")
    assert "早上8点发" in out.replace("\n", "")  # said back: 8:00 is the morning's


def test_a_command_says_what_it_did_without_the_bots_log_lines(env: dict[str, str]) -> None:
    done = _command(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")
    assert done.returncode == 0 and "已添加" in done.stdout
    assert done.stderr == ""  # no "INFO bot.domain.villages: group 1 now has village 1…"


def test_a_bad_setting_stops_start_up_naming_the_variable(env: dict[str, str]) -> None:
    code, out = yehua({**env, "YEHUA_PORT": "eighty"}, "lessons", "list")
    assert code == 2
    assert "YEHUA_PORT" in out


def _command(env: dict[str, str], *args: str, file_size: int | None = None
             ) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as a shell runs it; `file_size`: no file it writes may grow past
    that many bytes (a disk that is full)."""
    def limited() -> None:
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE,
                               (file_size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    # No bytecode written: under the limit it would be cut short, for later imports to trip on.
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env={**env, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
                          timeout=60, preexec_fn=limited)


def test_a_database_server_that_is_down_ends_a_command_in_one_plain_line(
        env: dict[str, str]) -> None:
    done = _command({**env, "YEHUA_DATABASE_URL":
                     f"postgresql+psycopg://yehua:x@127.0.0.1:{free_port()}/yehua"},
                    "groups", "list")
    assert done.returncode == 2
    assert "数据库用不了" in done.stderr and "127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_full_disk_ends_an_export_in_one_plain_line_and_the_stored_data_stays(
        env: dict[str, str], tmp_path: Path) -> None:
    assert _command(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu").returncode == 0
    out = tmp_path / "积分.xlsx"

    done = _command(env, "points", "export", "--year", "2026", "--out", str(out),
                    file_size=2048)

    assert done.returncode == 2  # the database itself could not be opened
    assert "数据库用不了" in done.stderr and "磁盘是否已满" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()
    code, listed = yehua(env, "groups", "list")  # once there is room again, nothing is lost
    assert code == 0 and "枫树屋场" in listed


def test_a_full_disk_while_the_bot_runs_ends_an_export_in_one_plain_line(
        env: dict[str, str], tmp_path: Path) -> None:
    assert _command(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu").returncode == 0
    out = tmp_path / "积分.xlsx"
    # A running bot holds the database open: its log and shared-memory files are there, so
    # the export can read, and it is the workbook the disk will not take.
    running = sqlite3.connect(Path(env["YEHUA_DATA_DIR"]) / "yehua.db")
    try:
        running.execute("PRAGMA journal_mode=WAL")
        running.execute("SELECT count(*) FROM chat_group").fetchall()
        done = _command(env, "points", "export", "--year", "2026", "--out", str(out),
                        file_size=2048)
    finally:
        running.close()

    assert done.returncode == 1
    assert "没法写入" in done.stdout + done.stderr
    for noise in ("Traceback", "Exception ignored"):
        assert noise not in done.stderr + done.stdout
    assert list(tmp_path.glob("积分.xlsx*")) == []  # no half workbook left behind


def test_a_data_folder_that_cannot_be_made_ends_a_command_in_one_plain_line(
        env: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "报表.csv"
    a_file.write_text("x")
    done = _command({**env, "YEHUA_DATA_DIR": str(a_file / "data")}, "groups", "list")
    assert done.returncode == 2
    assert "路径里有一段不是文件夹" in done.stderr and "YEHUA_DATA_DIR" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_an_export_to_a_missing_folder_or_to_a_folder_says_so_and_writes_nothing(
        env: dict[str, str], tmp_path: Path) -> None:
    code, out = yehua(env, "points", "export", "--year", "2026", "--out",
                      str(tmp_path / "u盘" / "积分.xlsx"))
    assert code == 1 and f"文件夹 {tmp_path / 'u盘'} 不存在" in out.replace("\n", "")
    code, out = yehua(env, "points", "export", "--year", "2026", "--out", str(tmp_path))
    assert code == 1 and "是一个文件夹" in out
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "u盘").exists()


def test_python_dash_m_bot_is_the_same_command(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True,
                          text=True, env={**env, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0
    assert "lessons" in done.stdout and "schedule" in done.stdout


def test_every_platform_a_group_can_be_added_on_is_one_the_bot_serves() -> None:
    from bot.app import PLATFORMS

    assert set(PLATFORM_NAMES) == {"web", *PLATFORMS}
