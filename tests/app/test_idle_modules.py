"""Heavy libraries stay out of an idle bot: each loads only when its work first comes, so a
village's small machine keeps its memory for the chats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Everything the running bot imports to start: the app, the chat, the console, the CLI.
IDLE = """
import json, sys
import bot.app, bot.chat.commands, bot.admin, bot.cli.main, bot.reports
heavy = ("PIL", "openpyxl", "docx", "numpy", "lxml", "av", "jionlp", "jieba", "opencc",
         "psycopg")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def test_an_idle_bot_holds_no_image_spreadsheet_audio_or_language_library() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", IDLE], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
