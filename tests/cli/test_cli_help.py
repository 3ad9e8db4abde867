"""Every `yehua … --help` speaks Chinese: command summaries, option help, password prompts."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from bot.cli.main import app

CJK = re.compile(r"[\u4e00-\u9fff]")
ENV = {"COLUMNS": "200"}


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The root command and every command and sub-command under it, with its argv path."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))
IDS = [" ".join(("yehua", *path)) for path, _ in COMMANDS]


def _summary(help_text: str | None) -> str:
    """The first paragraph of a help text: the line shown in command lists."""
    return inspect.cleandoc(help_text or "").split("\n\n")[0].strip()


def _squeeze(text: str) -> str:
    """Text without whitespace, so a summary wrapped across lines still matches."""
    return re.sub(r"\s+", "", text)


def _help_page(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_walked() -> None:
    walked = set(IDS)
    for expected in ("yehua", "yehua run", "yehua voices", "yehua report", "yehua lessons speak",
                     "yehua schedule add", "yehua groups add", "yehua nighttalk close",
                     "yehua roles grant", "yehua users passwd"):
        assert expected in walked


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_summary_is_chinese_and_shown(path: tuple[str, ...], command: Any) -> None:
    summary = _summary(command.help)
    assert CJK.search(summary), f"{' '.join(path)!r} has no Chinese summary: {summary!r}"
    page = _help_page(path)
    assert _squeeze(summary) in _squeeze(page)
    # A group's list shows each sub-command's Chinese summary.
    for sub in getattr(command, "commands", {}).values():
        assert _squeeze(_summary(sub.help)) in _squeeze(page)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_page_shows_no_english_docstring(path: tuple[str, ...], command: Any) -> None:
    docstring = inspect.getdoc(getattr(command, "callback", None)) or ""
    first_line = docstring.split("\n")[0].strip()
    if not first_line:
        return
    page = _help_page(path)
    assert _squeeze(first_line) not in _squeeze(page), (
        f"{' '.join(path)!r} still shows its English docstring: {first_line!r}")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_and_argument_is_explained_in_chinese(path: tuple[str, ...],
                                                           command: Any) -> None:
    for param in command.params:
        if param.name == "help":
            continue  # Typer's own --help line ("Show this message and exit.") stays as it is
        text = getattr(param, "help", None) or ""
        assert CJK.search(text), f"{' '.join(path)} {param.name}: help {text!r} is not Chinese"


def _users(tmp_path: Path, *args: str, stdin: str) -> tuple[int, str]:
    env = {**ENV, "YEHUA_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(app, ["users", *args], env=env, input=stdin)
    return result.exit_code, result.output


def test_password_typed_differently_twice_is_asked_again_in_chinese(tmp_path: Path) -> None:
    code, out = _users(tmp_path, "add", "li", "--name", "李伯",
                       stdin="password-one\npassword-two\npassword-one\npassword-one\n")
    assert code == 0, out
    assert "两次输入的密码不一样" in out and "已添加账号 li" in out
    assert "do not match" not in out


def test_password_prompt_left_unfinished_stops_in_chinese(tmp_path: Path) -> None:
    code, out = _users(tmp_path, "add", "li", "--name", "李伯", stdin="password-one\n")
    assert code == 1
    assert "没有输完密码" in out and "Aborted" not in out
    code, out = _users(tmp_path, "list", stdin="")
    assert "还没有账号" in out  # nothing was added
