"""NoneBot2 with its OneBot v11 adapter, the peer `bench.ingest --nonebot PYTHON` compares with.

A plugin as its documentation shows one: a matcher on messages starting with 「建议」 that stores
the suggestion in SQLite (WAL, one commit each) and, with `answer`, answers 「收到…第 N 号」 at
once through the OneBot HTTP API. That path is far slower (an HTTP call per answer, unpaced), so
the bench's default is `quiet`: storing only, the kindest case for NoneBot. NoneBot answers the
event's POST before its matchers run, so its acknowledgements say nothing about what was
stored; the bench counts the stored rows afterwards. Settings as NoneBot ships them (log level
INFO), plus the HTTP-post secret and the API root.

Runs in its own virtual environment (NoneBot is not a dependency of Yehua):
  python3 -m venv /tmp/nb && /tmp/nb/bin/pip install "nonebot2[fastapi,httpx]" \\
      nonebot-adapter-onebot
  .venv/bin/python -m bench.ingest --nonebot /tmp/nb/bin/python
Usage (by the bench): PYTHON bench/nonebot_peer.py DB_PATH PORT SECRET TOKEN SELF_ID API_ROOT
                      answer|quiet
"""

# No `from __future__ import annotations`: NoneBot reads the handler's annotations to inject
# the matcher and the event, and they must be real classes for that.
import sqlite3
import sys


def main() -> None:
    db_path, port, secret, token, self_id, api_root, answers = sys.argv[1:8]
    answer = answers == "answer"
    import nonebot
    from nonebot import on_startswith
    from nonebot.adapters.onebot.v11 import Adapter, GroupMessageEvent
    from nonebot.matcher import Matcher

    nonebot.init(driver="~fastapi+~httpx", host="127.0.0.1", port=int(port),
                 onebot_secret=secret, onebot_access_token=token,
                 onebot_api_roots={self_id: api_root})
    nonebot.get_driver().register_adapter(Adapter)

    db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS suggestion (id INTEGER PRIMARY KEY, "
               "group_id INTEGER, user_id INTEGER, message_id INTEGER, text TEXT)")

    suggestion = on_startswith("建议")

    @suggestion.handle()
    async def store(matcher: Matcher, event: GroupMessageEvent) -> None:
        cursor = db.execute(
            "INSERT INTO suggestion (group_id, user_id, message_id, text) VALUES (?, ?, ?, ?)",
            (event.group_id, event.user_id, event.message_id, event.get_plaintext()))
        if answer:
            await matcher.finish(f"收到，您的建议记下了，是第 {cursor.lastrowid} 号。")

    nonebot.run()


if __name__ == "__main__":
    main()
