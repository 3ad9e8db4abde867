"""`yehua lessons` and `yehua schedule` on the library in the database: console-written lessons,
conflicts between a file and the console, archived lessons."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.db import open_database, session
from bot.domain import lesson_library as library
from bot.domain.lesson_library import LessonForm
from bot.settings import DEFAULT_LESSONS_DIR, Settings

NEW = LessonForm(slug="flood-safety", title="汛期安全", speaker="李支书", date="2026-06-01",
                 tags="防汛", summary="汛期怎么保平安", body="下大雨的时候，请不要到河边去看水。")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "lessons"
    shutil.copytree(DEFAULT_LESSONS_DIR, copy)
    return copy


@pytest.fixture
def env(tmp_path: Path, folder: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"), "YEHUA_LESSONS_DIR": str(folder),
            "COLUMNS": "200"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def _in_console(env: dict[str, str], entry: LessonForm, *, based_on: int = 0,
                new: bool = True) -> None:
    """Save a lesson as the console does, into the database the commands use."""
    folder = Path(env["YEHUA_LESSONS_DIR"])
    engine = open_database(Settings(data_dir=Path(env["YEHUA_DATA_DIR"])).db_url)
    checked = library.check_form(folder, entry)
    assert checked.lesson is not None, checked.problems
    with session(engine) as db:
        library.save(db, checked.lesson, based_on=based_on, author="王书记", new=new)
    engine.dispose()


def test_a_lesson_written_in_the_console_is_listed_beside_the_files(
        env: dict[str, str]) -> None:
    assert yehua(env, "lessons", "list")[0] == 0
    _in_console(env, NEW)
    code, out = yehua(env, "lessons", "list")
    assert code == 0
    assert "flood-safety" in out and "汛期安全" in out and "telecom-fraud" in out
    assert yehua(env, "lessons", "check")[0] == 0


def test_check_names_a_file_edited_after_a_console_edit_and_fails(
        env: dict[str, str], folder: Path) -> None:
    assert yehua(env, "lessons", "check")[0] == 0
    file = folder / "ebike-charging.md"
    original = file.read_text(encoding="utf-8")
    _in_console(env, LessonForm(**{**NEW.__dict__, "slug": "ebike-charging"}), based_on=1,
                new=False)
    file.write_text(original.replace("乡亲们", "老乡们"), encoding="utf-8")
    code, out = yehua(env, "lessons", "check")
    assert code != 0
    assert "ebike-charging.md 在控制台修改之后也被改过" in out
    code, out = yehua(env, "lessons", "list")
    assert "汛期安全" in out  # the console's version is still the lesson


def test_an_archived_lesson_cannot_be_scheduled_from_the_command_line(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    assert yehua(env, "lessons", "list")[0] == 0
    engine = open_database(Settings(data_dir=Path(env["YEHUA_DATA_DIR"])).db_url)
    with session(engine) as db:
        assert library.set_archived(db, "village-rules", True)
    engine.dispose()
    code, out = yehua(env, "lessons", "list")
    assert "village-rules" not in out
    code, out = yehua(env, "schedule", "add", "village-rules", "-g", "fengshu",
                      "--cron", "0 20 * * 5")
    assert code != 0 and "已归档" in out
