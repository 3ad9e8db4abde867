"""Behind nginx: the web chat's limits and the console's lockout count each client's address,
which only a trusted proxy may tell."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from bot import texts
from bot.core.models import Role
from bot.settings import Settings, SettingsError, load_settings
from tests.support.app import running
from tests.support.console import PASSWORD, add_account, visitor, with_console
from tests.support.village import WAIT, prepare_village

ROOM = "village"


async def _hello(url: str, user: str, client: str) -> dict[str, Any]:
    """A new member says hello over a socket nginx forwarded for `client`."""
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"{url}/ws/{ROOM}", headers={"X-Forwarded-For": client}) as ws:
        await ws.send_json({"type": "hello", "user_id": user, "name": f"村民{user[-1]}"})
        answer: dict[str, Any] = await ws.receive_json(timeout=WAIT)
        return answer


async def test_new_members_behind_one_proxy_count_by_their_own_address(
        settings: Settings) -> None:
    behind = replace(settings, webchat_new_ids_per_hour=1, trusted_proxies=("127.0.0.1",))
    async with running(behind, prepare_village) as bot:
        first = await _hello(bot.url, "user-new-member-1", "203.0.113.7")
        neighbour = await _hello(bot.url, "user-new-member-2", "203.0.113.8")
        # A client cannot pass itself off as another: only the proxy's own hop counts.
        again = await _hello(bot.url, "user-new-member-3", "198.51.100.1, 203.0.113.7")
    assert first["type"] == neighbour["type"] == "ready"
    assert again["type"] == "error" and again["text"] == texts.WEB_LIMIT_NEW_NAMES


async def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(
        settings: Settings) -> None:
    async with running(replace(settings, webchat_new_ids_per_hour=1), prepare_village) as bot:
        first = await _hello(bot.url, "user-new-member-1", "203.0.113.7")
        other = await _hello(bot.url, "user-new-member-2", "203.0.113.8")
    assert first["type"] == "ready"
    assert other["type"] == "error" and other["text"] == texts.WEB_LIMIT_NEW_NAMES


async def test_a_guesser_behind_the_proxy_does_not_lock_the_secretary_out(
        settings: Settings) -> None:
    behind = replace(settings, trusted_proxies=("127.0.0.1",))
    async with running(behind, with_console) as bot:
        add_account(bot, "wang", Role.ADMIN)
        async with visitor(bot) as guesser:
            guesser.http.headers["X-Forwarded-For"] = "198.51.100.66"
            for _ in range(6):
                await guesser.sign_in("wang", "not-the-password")
        async with visitor(bot) as secretary:
            secretary.http.headers["X-Forwarded-For"] = "203.0.113.7"
            signed_in = await secretary.sign_in("wang", PASSWORD)
        async with visitor(bot) as guesser:
            guesser.http.headers["X-Forwarded-For"] = "198.51.100.66"
            locked = await guesser.sign_in("wang", PASSWORD)
    assert signed_in.status == 302
    assert locked.status != 302


def test_a_bad_proxy_address_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="YEHUA_TRUSTED_PROXIES"):
        load_settings({"YEHUA_TRUSTED_PROXIES": "nginx.local"})
    assert load_settings({"YEHUA_TRUSTED_PROXIES": "10.0.0.10, 10.1.0.0/16"}
                         ).trusted_proxies == ("10.0.0.10", "10.1.0.0/16")
