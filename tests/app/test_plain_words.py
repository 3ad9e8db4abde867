"""What the real app's web pages say when something is wrong: the problem in plain words."""

from __future__ import annotations

import json
import re

import aiohttp
from aiohttp import FormData

from bot.core.models import Role
from bot.settings import Settings
from tests.support.app import running
from tests.support.console import add_account, add_group, console_app, visitor
from tests.support.village import ROOM, ZHANG, prepare_village

JARGON = ("参数", "整数", "https", "来历不明", "表单", "格式")


def plain(text: str) -> bool:
    return not any(word in text for word in JARGON)


async def test_a_bad_address_for_older_messages_is_named_without_jargon(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, aiohttp.ClientSession() as http:
        for query, name in (("limit=abc", "limit"), ("before=0", "before"),
                            ("after=-1", "after")):
            async with http.get(f"{bot.url}/api/rooms/{ROOM}/messages?{query}") as response:
                assert response.status == 400
                error = (await response.json())["error"]
            assert error == (f"没能加载消息：网址里“{name}=”后面的数字不对。"
                             "请回到群列表，重新点进群里。")
            assert plain(error)


async def test_a_voice_upload_missing_its_recording_says_what_to_do(settings: Settings) -> None:
    form = FormData()
    form.add_field("user_id", ZHANG[0])
    form.add_field("name", ZHANG[1])
    async with running(settings, prepare_village) as bot, aiohttp.ClientSession() as http, \
            http.post(f"{bot.url}/api/rooms/{ROOM}/voice", data=form) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error == "这条没发成，可能页面是旧的。请刷新页面再发一次。" and plain(error)


async def test_the_chat_page_explains_recording_needs_a_safe_address_without_https(
        settings: Settings) -> None:
    async with running(settings, prepare_village) as bot, aiohttp.ClientSession() as http, \
            http.get(f"{bot.url}/room/{ROOM}") as response:
        page = await response.text()
    found = re.search(r'<script type="application/json" id="chat-data">(.*?)</script>', page,
                      re.DOTALL)
    assert found is not None
    strings = json.loads(found.group(1))["texts"]
    assert "小锁" in strings["voice_needs_https"]
    assert [name for name, text in strings.items() if not plain(text)] == []


async def test_a_stale_console_form_is_refused_in_plain_words(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "root", Role.ADMIN)
        group_id = add_group(bot, "枫树屋场群")
        assert (await guest.sign_in("root")).status == 302
        refused = await guest.post(f"/admin/groups/{group_id}", {"name": "改过的名字"}, None)
        assert refused.status == 403
        page = await refused.text()
    assert "这一页打开太久了" in page and "什么都没有改" in page
    assert "来历不明" not in page and "表单" not in page
