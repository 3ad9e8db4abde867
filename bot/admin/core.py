"""The page API every console page uses: who is looking, what they may see, rendering, forms."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from bot import texts
from bot.admin.auth import SESSION_COOKIE, LoginLimiter, tokens_match
from bot.core.db import in_session
from bot.core.models import ConsoleUser, Role
from bot.core.roles import allows
from bot.domain.accounts import load_session
from bot.domain.services import Services
from bot.settings import Settings
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

FLASH_COOKIE = "yehua_flash"
COOKIE_PATH = "/admin"
FormData = MultiDictProxy[Any]


class Jobs:
    """Background tasks started by pages (e.g. rendering a voice), cancelled with the app."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    def start(self, key: str, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` under `key` unless a task with that key is still running."""
        task = self.tasks.get(key)
        if task is not None and not task.done():
            coro.close()
            return
        self.tasks[key] = asyncio.create_task(coro)

    def running(self, key: str) -> bool:
        """Whether the task under `key` is still going."""
        task = self.tasks.get(key)
        return task is not None and not task.done()

    def outcome(self, key: str) -> Any:
        """What the finished task under `key` returned; None if none, unfinished or failed."""
        task = self.tasks.get(key)
        if task is None or not task.done() or task.cancelled() or task.exception():
            return None
        return task.result()

    async def close(self) -> None:
        """Cancel and await every task (the app's cleanup)."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


@dataclass
class Console:
    """What console pages work with; one per app, found under CONSOLE."""

    services: Services
    settings: Settings
    templates: jinja2.Environment
    limiter: LoginLimiter = field(init=False)
    jobs: Jobs = field(default_factory=Jobs)

    def __post_init__(self) -> None:
        self.limiter = LoginLimiter(self.services.engine)


CONSOLE = web.AppKey("console", Console)


@dataclass(frozen=True)
class Viewer:
    """The signed-in account looking at a page."""

    user: ConsoleUser
    role: Role
    csrf_token: str


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation, shown to `role` and above."""

    path: str
    label: str
    role: Role


NAV = (
    NavItem("/admin", texts.ADMIN_NAV_HOME, Role.FACILITATOR),
    NavItem("/admin/lessons", texts.ADMIN_NAV_LESSONS, Role.FACILITATOR),
    NavItem("/admin/calendar", texts.ADMIN_NAV_CALENDAR, Role.FACILITATOR),
    NavItem("/admin/talks", texts.ADMIN_NAV_TALKS, Role.FACILITATOR),
    NavItem("/admin/suggestions", texts.ADMIN_NAV_SUGGESTIONS, Role.SECRETARY),
    NavItem("/admin/todos", texts.ADMIN_NAV_TODOS, Role.SECRETARY),
    NavItem("/admin/points", texts.ADMIN_NAV_POINTS, Role.FACILITATOR),
    NavItem("/admin/reports", texts.ADMIN_NAV_REPORTS, Role.SECRETARY),
    NavItem("/admin/bulk-points", texts.ADMIN_NAV_BULK_POINTS, Role.FACILITATOR),
    NavItem("/admin/households", texts.ADMIN_NAV_HOUSEHOLDS, Role.SECRETARY),
    NavItem("/admin/shop", texts.ADMIN_NAV_SHOP, Role.SECRETARY),
    NavItem("/admin/groups", texts.ADMIN_NAV_GROUPS, Role.ADMIN),
    NavItem("/admin/users", texts.ADMIN_NAV_USERS, Role.ADMIN),
)

PageHandler = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_of(request: web.Request) -> Console:
    """The console this request is served by."""
    return request.app[CONSOLE]


def secure_cookies(request: web.Request) -> bool:
    """Cookies get Secure when this request is https or the site's public URL is."""
    return request.secure or console_of(request).settings.public_url.startswith("https://")


async def viewer_of(request: web.Request) -> Viewer | None:
    """The signed-in account of this request's session cookie, or None."""
    console = console_of(request)
    found = await in_session(console.services.engine, load_session,
                             request.cookies.get(SESSION_COOKIE), console.services.clock())
    if found is None:
        return None
    user, row = found
    return Viewer(user=user, role=Role(user.role), csrf_token=row.csrf_token)


def page(role: Role) -> Callable[[PageHandler], Handler]:
    """Guard a page: sign-in, at least `role`, and on POST a valid CSRF token, else refused."""

    def decorate(handler: PageHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            viewer = await viewer_of(request)
            if viewer is None:
                target = request.path_qs if request.method == "GET" else request.path
                raise web.HTTPFound(f"/admin/login?next={quote(target, safe='/')}")
            if not allows(viewer.role, role):
                return render(request, viewer, "admin/forbidden.html", status=403,
                              heading=texts.ADMIN_FORBIDDEN_TITLE,
                              message=texts.ADMIN_FORBIDDEN_TEXT)
            if request.method == "POST":
                data = await request.post()
                given = data.get("csrf_token")
                if not tokens_match(viewer.csrf_token, given if isinstance(given, str) else None):
                    log.warning("console form %s refused: missing or wrong CSRF token",
                                request.path)
                    return render(request, viewer, "admin/forbidden.html", status=403,
                                  heading=texts.ADMIN_CSRF_TITLE, message=texts.ADMIN_CSRF_TEXT)
            try:
                return await handler(request, viewer)
            except web.HTTPNotFound:
                return render(request, viewer, "admin/forbidden.html", status=404,
                              heading=texts.ADMIN_NOT_FOUND_TITLE,
                              message=texts.ADMIN_NOT_FOUND_TEXT)

        return guarded

    return decorate


def _flash(request: web.Request) -> tuple[str | None, bool]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None, False
    message = unquote(raw)
    if message.startswith("!"):
        return message[1:], True
    return message, False


def render_plain(request: web.Request, template: str, *, status: int = 200,
                 **context: Any) -> web.Response:
    """Render a console template for anyone (the sign-in page): no navigation, no account."""
    flash, flash_error = _flash(request)
    values = {"viewer": None, "csrf_token": "", "nav": [], "flash": flash,
              "flash_error": flash_error, **context}
    html = console_of(request).templates.get_template(template).render(**values)
    response = web.Response(text=html, status=status, content_type="text/html")
    if flash is not None:
        response.del_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


def render(request: web.Request, viewer: Viewer, template: str, *, status: int = 200,
           **context: Any) -> web.Response:
    """Render a console template with the viewer, CSRF token, navigation and flash message."""
    path = request.path.rstrip("/") or "/"
    nav = [(item, path == item.path or (item.path != "/admin"
                                        and path.startswith(item.path + "/")))
           for item in NAV if allows(viewer.role, item.role)]
    return render_plain(request, template, status=status, **{
        "viewer": viewer, "csrf_token": viewer.csrf_token, "nav": nav, **context})


def console_path(path: str) -> bool:
    """Whether `path` is a path on this site's console (not another site, no header tricks)."""
    return (path.startswith("/admin") and not path.startswith("//") and "\\" not in path
            and path.isprintable())


def redirect(path: str, flash: str | None = None, *, error: bool = False) -> web.HTTPFound:
    """A redirect (raise it) to a console page; `flash` is shown once on that page."""
    if not console_path(path):
        path = "/admin"
    found = web.HTTPFound(path)
    if flash:
        found.set_cookie(FLASH_COOKIE, quote(("!" if error else "") + flash), path=COOKIE_PATH,
                         httponly=True, samesite="Lax", max_age=300)
    return found


async def form(request: web.Request) -> FormData:
    """The POSTed form (its CSRF token was already checked by @page)."""
    return await request.post()


def field_text(data: FormData, name: str, limit: int = 2000) -> str:
    """A text field of a form, trimmed and cut to `limit` characters ("" when missing)."""
    value = data.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def whole_number(value: str | None) -> int | None:
    """A positive whole number from a form or query value, or None."""
    if value is None or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


def zone_of(name: str | None, default: str = "Asia/Shanghai") -> ZoneInfo:
    """The named time zone, falling back to `default` for a missing or unknown name."""
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local_time(when: datetime | None, zone: str | None = None, *,
               default_zone: str = "Asia/Shanghai", now: datetime | None = None) -> str:
    """A moment as a villager reads it, in a group's zone: 11月26日 20:00 (year if not this)."""
    if when is None:
        return texts.ADMIN_NO_TIME
    tz = zone_of(zone, default_zone)
    local = when.astimezone(tz)
    this_year = (now or utcnow()).astimezone(tz).year
    fmt = texts.ADMIN_TIME if local.year == this_year else texts.ADMIN_TIME_YEAR
    return fmt.format(year=local.year, month=local.month, day=local.day,
                      clock=local.strftime("%H:%M"))
