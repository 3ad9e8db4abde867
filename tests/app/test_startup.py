"""Start-up: a bad setting or a busy port is one plain line and exit 2, before anything runs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.loopback import free_port
from tests.support.process import bot_env, serving, start_yehua, yehua

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # well-formed, never used


@pytest.mark.parametrize(
    ("variable", "value", "secret"),
    [
        ("YEHUA_TELEGRAM_TOKEN", "not-a-token", "not-a-token"),
        ("YEHUA_TELEGRAM_API_BASE", "api.telegram.org", None),
        ("YEHUA_ONEBOT_ACCESS_TOKEN", "", None),  # API root set, no token
        ("YEHUA_WECOM_ROBOTS", "chat-without-key", "chat-without-key"),
        ("YEHUA_WECOM_AES_KEY", "short-secret-key", "short-secret-key"),
        ("YEHUA_DINGTALK_ROBOTS", "just-a-secret-token", "just-a-secret-token"),
        ("YEHUA_FEISHU_FLOOD_WAIT", "soon", None),
        ("YEHUA_DINGTALK_FLOOD_WAIT", "inf", None),  # a pause that never ends
        ("YEHUA_ONEBOT_TIMEOUT", "nan", None),
        ("YEHUA_PORT", "eighty", None),
        ("YEHUA_DATABASE_URL", "yehua:hunter2@db/yehua", "hunter2"),
        ("YEHUA_BACKUP_AT", "25:00", None),
    ],
)
async def test_a_bad_setting_of_any_platform_is_one_line_naming_it_and_exit_2(
    tmp_path: Path, variable: str, value: str, secret: str | None
) -> None:
    data = tmp_path / "data"
    extra = {variable: value}
    if variable.startswith("YEHUA_TELEGRAM_") and variable != "YEHUA_TELEGRAM_TOKEN":
        extra["YEHUA_TELEGRAM_TOKEN"] = TELEGRAM_TOKEN
    if variable == "YEHUA_ONEBOT_ACCESS_TOKEN":
        extra["YEHUA_ONEBOT_API_ROOT"] = "http://127.0.0.1:3000"
    if variable == "YEHUA_WECOM_AES_KEY":
        extra |= {"YEHUA_WECOM_WEBHOOK_KEY": "693a91f6-7xxx", "YEHUA_WECOM_TOKEN": "tok"}
    if variable == "YEHUA_FEISHU_FLOOD_WAIT":
        extra["YEHUA_FEISHU_ROBOTS"] = "oc_1:hook-token"
    if variable == "YEHUA_DINGTALK_FLOOD_WAIT":
        extra["YEHUA_DINGTALK_APP_SECRET"] = "app-secret"
    if variable == "YEHUA_ONEBOT_TIMEOUT":
        extra["YEHUA_ONEBOT_ACCESS_TOKEN"] = "onebot-token"
    finished = await yehua(env=bot_env(data, **{"YEHUA_PORT": str(free_port()), **extra}))
    assert finished.code == 2, finished
    assert len(finished.err_lines) == 1, finished.err
    line = finished.err_lines[0]
    assert variable in line and "expected" in line and "设置有误" in line
    if secret is not None:
        assert secret not in finished.err + finished.out, "a password is never echoed"
    assert "Traceback" not in finished.err and "夜话已启动" not in finished.out
    assert not data.exists(), "nothing was started or created"


async def test_a_second_bot_on_a_busy_port_says_so_in_one_line_and_the_first_keeps_serving(
    tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(tmp_path / "data", YEHUA_PORT=str(port))
    first = await start_yehua(env=env)
    try:
        await serving(f"http://127.0.0.1:{port}")
        second = await yehua(env=bot_env(tmp_path / "other", YEHUA_PORT=str(port)))
        assert second.code == 2, second
        assert len(second.err_lines) == 1, second.err
        assert str(port) in second.err_lines[0] and "YEHUA_PORT" in second.err_lines[0]
        assert "已经被占用" in second.err_lines[0]
        assert "夜话已启动" not in second.out
        assert not (tmp_path / "other").exists(), "no database, no scheduler was started"
        await serving(f"http://127.0.0.1:{port}", within=5)  # the first bot is untouched
    finally:
        first.terminate()
        await first.wait()


async def test_a_port_taken_by_another_program_is_refused_the_same_way(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = await yehua(env=bot_env(tmp_path / "data", YEHUA_PORT=str(port)))
    assert finished.code == 2 and len(finished.err_lines) == 1, finished
    assert f"端口 {port}" in finished.err_lines[0]
