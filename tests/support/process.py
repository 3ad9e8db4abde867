"""The `yehua` command as a real process: its environment, its exit code and its output."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support.polling import eventually

ROOT = Path(__file__).resolve().parents[2]


def bot_env(data: Path, **settings: str) -> dict[str, str]:
    """This machine's environment without YEHUA_ settings, plus the data folder and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YEHUA_")}
    env |= {"PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost", "COLUMNS": "200",
            "YEHUA_DATA_DIR": str(data), "YEHUA_DEMO": "false", "YEHUA_ESPEAK": "false",
            "YEHUA_FLAVOUR": "false", "YEHUA_LOG_LEVEL": "WARNING",
            "YEHUA_UVLOOP": "false"}
    return env | settings


@dataclass(frozen=True)
class Finished:
    """How a `yehua` process ended."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


async def start_yehua(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`python -m bot ARGS` running in the background, its output piped."""
    cwd = Path(env["YEHUA_DATA_DIR"]).parent  # the data folder itself may not exist yet
    cwd.mkdir(parents=True, exist_ok=True)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def yehua(*args: str, env: dict[str, str]) -> Finished:
    """Run `python -m bot ARGS` to its end (two minutes at most)."""
    process = await start_yehua(*args, env=env)
    async with asyncio.timeout(120):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


async def serving(url: str, within: float = 60) -> None:
    """Wait until the bot started at `url` answers its front page (it has started up)."""
    async with aiohttp.ClientSession() as http:
        async def up() -> bool:
            try:
                async with http.get(url + "/") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await eventually(up, within)
