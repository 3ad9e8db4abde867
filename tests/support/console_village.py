"""The console over the village room: its two accounts and a browser signed in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import ChatMessage, Role
from bot.domain.accounts import create_user
from tests.support.builders import add_group
from tests.support.console import CSRF, with_console
from tests.support.village import prepare_village

PASSWORD = "correct horse 2026"
SECRETARY_LOGIN = ("wang", "王书记", Role.SECRETARY)
FACILITATOR_LOGIN = ("libo", "李伯", Role.FACILITATOR)


def prepare_console(app: web.Application) -> None:
    """The village room and a second group, the console, and a secretary's and facilitator's
    accounts."""
    prepare_village(app)
    with_console(app)
    add_group(app[ENGINE], "杨柳村群", chat_id="yangliu", hamlet="杨柳屋场")
    with session(app[ENGINE]) as db:
        for username, name, role in (SECRETARY_LOGIN, FACILITATOR_LOGIN):
            create_user(db, username, name, PASSWORD, role)


@dataclass
class Signed:
    """A browser signed in to the console: a cookie jar that keeps the session."""

    http: aiohttp.ClientSession
    url: str

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url + path) as response:
            return response.status, await response.text()

    async def token(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`, as a browser would read it."""
        status, html = await self.get(path)
        assert status == 200, html
        found = CSRF.search(html)
        assert found, f"no form with a CSRF token on {path}"
        return found.group(1)

    async def post(self, path: str, data: dict[str, str], *, form_on: str | None = None,
                   csrf: bool = True) -> tuple[int, str]:
        """Submit a form (taking its token from the page `form_on`); follow the redirect."""
        fields = dict(data)
        if csrf:
            fields["csrf_token"] = await self.token(form_on or path.rsplit("/", 1)[0])
        async with self.http.post(self.url + path, data=fields) as response:
            return response.status, await response.text()


@asynccontextmanager
async def signed_in(url: str, login: tuple[str, str, Role] = SECRETARY_LOGIN
                    ) -> AsyncIterator[Signed]:
    """Sign in through the login form like a person does."""
    # Cookies from an IP address (127.0.0.1) are only kept by an "unsafe" jar.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(url + "/admin/login") as response:
            found = CSRF.search(await response.text())
        assert found
        fields = {"username": login[0], "password": PASSWORD, "csrf_token": found.group(1),
                  "next": "/admin/suggestions"}
        async with http.post(url + "/admin/login", data=fields,
                             allow_redirects=False) as response:
            assert response.status == 302, await response.text()
        yield Signed(http, url)


def bot_messages(engine: Engine) -> int:
    """How many messages the bot has posted in the web rooms."""
    with session(engine) as db:
        return len(db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))).all())
