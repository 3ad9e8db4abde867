"""The bot with its web console: accounts, groups, rows to show, and a visitor without JS."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web

from bot.admin import CONSOLE, setup_admin
from bot.app import ENGINE, SERVICES, SETTINGS
from bot.core.db import session
from bot.core.models import Role, Suggestion, SuggestionStatus
from bot.domain.accounts import create_user
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from tests.support import builders
from tests.support.app import RunningApp, running

PASSWORD = "村里的路灯2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def with_console(app: web.Application) -> None:
    """Add the console to the app under test (until bot/app.py does it itself)."""
    if CONSOLE not in app:
        setup_admin(app, app[SERVICES], settings=app[SETTINGS])


def add_account(bot: RunningApp, username: str, role: Role, name: str | None = None) -> None:
    """A console account with the shared test password."""
    with session(bot.app[ENGINE]) as db:
        create_user(db, username, name or username, PASSWORD, role)


def add_group(bot: RunningApp, name: str, chat_id: str = "fengshu", hamlet: str = "枫树屋场"
              ) -> int:
    """A web-chat group; returns its id."""
    group = builders.add_group(bot.app[ENGINE], name, chat_id=chat_id, hamlet=hamlet)
    assert group.id is not None
    return group.id


@asynccontextmanager
async def console_app(settings: Settings) -> AsyncIterator[RunningApp]:
    """The whole bot with its console, serving HTTP on 127.0.0.1."""
    async with running(settings, with_console) as bot:
        yield bot


@dataclass
class Visitor:
    """A browser without JavaScript: a cookie jar, GETs and form POSTs."""

    http: aiohttp.ClientSession
    url: str

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url + path, allow_redirects=False) as response:
            return response.status, await response.text()

    async def token(self, path: str = "/admin") -> str:
        """The CSRF token of a form on the page at `path`, read as a browser would."""
        status, html = await self.get(path)
        assert status == 200, html
        found = CSRF.search(html)
        assert found, html
        return found[1]

    async def post(self, path: str, data: dict[str, str] | list[tuple[str, str]],
                   token: str | None = None) -> aiohttp.ClientResponse:
        """POST a form; with `token`, as the page's own form would send it."""
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        if token is not None:
            fields.append(("csrf_token", token))
        response = await self.http.post(self.url + path, data=fields, allow_redirects=False)
        await response.read()
        return response

    async def sign_in(self, username: str, password: str = PASSWORD,
                      next_path: str = "") -> aiohttp.ClientResponse:
        """Fill in and send the sign-in form."""
        page = "/admin/login" + (f"?next={next_path}" if next_path else "")
        status, html = await self.get(page)
        assert status == 200, html
        found = CSRF.search(html)
        assert found
        fields = {"username": username, "password": password, "csrf_token": found[1],
                  "next": next_path or "/admin"}
        response = await self.http.post(self.url + "/admin/login", data=fields,
                                        allow_redirects=False)
        await response.read()
        return response


@asynccontextmanager
async def visitor(bot: RunningApp, username: str | None = None) -> AsyncIterator[Visitor]:
    """A visitor, signed in as `username` when given."""
    # An IP-address host needs the unsafe jar, or aiohttp drops every cookie.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        guest = Visitor(http, bot.url)
        if username is not None:
            response = await guest.sign_in(username)
            assert response.status == 302, await response.text()
        yield guest


def add_suggestions(bot: RunningApp, group_id: int, statuses: list[SuggestionStatus], *,
                    days_ago: int = 0, merged_into: int | None = None) -> list[int]:
    """Suggestions in the group, raised `days_ago` by the console's clock; returns their ids."""
    when = bot.app[CONSOLE].services.clock() - timedelta(days=days_ago)
    ids = []
    with session(bot.app[ENGINE]) as db:
        for status in statuses:
            row = Suggestion(group_id=group_id, hamlet="枫树屋场", platform="web",
                             chat_id="fengshu", message_id=uuid.uuid4().hex,
                             author_id="u1", author_name="张大爷", text="村口路灯坏了",
                             status=status, merged_into=merged_into, created_at=when,
                             updated_at=when)
            db.add(row)
            db.flush()
            assert row.id is not None
            ids.append(row.id)
    return ids


def add_delivery(bot: RunningApp, group_id: int, status: DeliveryStatus,
                 slug: str = "telecom-fraud", days_ago: int = 0) -> int:
    """A lesson delivery to the group `days_ago`, sent or failed; returns its id."""
    when = utcnow() - timedelta(days=days_ago, hours=1)
    with session(bot.app[ENGINE]) as db:
        row = Delivery(lesson_slug=slug, group_id=group_id, occurrence=when, status=status,
                       sent_at=when if status == DeliveryStatus.SENT else None,
                       error="AdapterError: 503 from the platform"
                       if status == DeliveryStatus.FAILED else None)
        db.add(row)
        db.flush()
        assert row.id is not None
        return row.id
