"""The secretary's and facilitator's web console under /admin: sign-in and every page."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from bot import texts
from bot.admin import (
    bulk_points,
    calendar,
    dashboard,
    groups,
    households,
    ledger,
    lesson_editor,
    lesson_recordings,
    lessons,
    points,
    points_rankings,
    reports,
    shop,
    suggestions,
    talks,
    todos,
    users,
)
from bot.admin.auth import SESSION_COOKIE, tokens_match
from bot.admin.core import (
    CONSOLE,
    COOKIE_PATH,
    Console,
    Viewer,
    console_of,
    console_path,
    field_text,
    local_time,
    page,
    redirect,
    render_plain,
    secure_cookies,
    viewer_of,
)
from bot.core.db import in_session, session
from bot.core.models import ConsoleUser, Role
from bot.domain.accounts import TOKEN_MAX, authenticate, end_session, start_session
from bot.domain.figures import local_date
from bot.domain.services import Services
from bot.reports import percent
from bot.settings import Settings

__all__ = ["CONSOLE", "Console", "setup_admin"]

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
LOGIN_COOKIE = "yehua_login"  # the sign-in form's CSRF token, before there is a session
LOGIN_PATH = "/admin/login"
# The lesson editor first: /admin/lessons/new is its form, not a lesson.
PAGE_MODULES = (dashboard, lesson_editor, lessons, calendar, talks, suggestions, todos, reports,
                groups, users, ledger, households, bulk_points, shop, points, points_rankings,
                lesson_recordings)
SECURITY_HEADERS = {
    # blob: media: the lesson page plays back a recording made in the browser before saving.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "media-src 'self' blob:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def setup_admin(app: web.Application, services: Services, *, settings: Settings) -> None:
    """Register every console route under /admin, its templates and its stylesheet."""
    console = Console(services=services, settings=settings, templates=_templates(settings))
    app[CONSOLE] = console
    app.router.add_get(LOGIN_PATH, _login_page)
    app.router.add_post(LOGIN_PATH, _login)
    app.router.add_post("/admin/logout", _logout)
    for module in PAGE_MODULES:
        routes = module.routes
        if isinstance(routes, web.RouteTableDef):
            app.router.add_routes(routes)
        else:
            routes(app.router)
    if not any(isinstance(r, StaticResource) and r.canonical == "/static"
               for r in app.router.resources()):
        app.router.add_static("/static/", WEB_DIR / "static")
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_stop_jobs)


def _templates(settings: Settings) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["local"] = functools.partial(local_time, default_zone=settings.timezone)
    env.filters["percent"] = percent
    env.filters["day"] = local_date  # 2026年3月5日, as the village reads a date
    css = (WEB_DIR / "static" / "admin.css").read_bytes()
    js = (WEB_DIR / "static" / "admin.js").read_bytes()
    js += (WEB_DIR / "static" / "ledger.css").read_bytes()  # the public ledger's look
    env.globals.update(texts=texts, v=hashlib.sha256(css + js).hexdigest()[:10],
                       role_labels=texts.ADMIN_ROLE_LABELS)
    return env


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/admin"):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)


async def _stop_jobs(app: web.Application) -> None:
    await app[CONSOLE].jobs.close()


def _safe_next(value: str | None) -> str:
    """Only a console path of this site: never another host, never the sign-in page."""
    if not value:
        return "/admin"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not console_path(value) or value.startswith(LOGIN_PATH):
        return "/admin"
    return value


def _login_form(request: web.Request, *, username: str = "", error: str | None = None,
                status: int = 200) -> web.Response:
    # Reused while the browser has one, so two open sign-in tabs both still work.
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if not 32 <= len(token) <= TOKEN_MAX:
        token = secrets.token_urlsafe(32)
    response = render_plain(request, "admin/login.html", status=status, csrf_token=token,
                            username=username, error=error,
                            next=_safe_next(request.query.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, path=LOGIN_PATH, httponly=True, samesite="Lax",
                        secure=secure_cookies(request))
    return response


async def _login_page(request: web.Request) -> web.StreamResponse:
    if await viewer_of(request) is not None:
        raise web.HTTPFound(_safe_next(request.query.get("next")))
    return _login_form(request)


def _check_password(console: Console, username: str, password: str) -> str | None:
    """A new session token for a right password (argon2 is slow: run in a thread)."""
    with session(console.services.engine) as db:
        user: ConsoleUser | None = authenticate(db, username, password)
        return start_session(db, user, console.services.clock()) if user is not None else None


async def _login(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    data = await request.post()
    expected, given = request.cookies.get(LOGIN_COOKIE), data.get("csrf_token")
    if not expected or not tokens_match(expected, given if isinstance(given, str) else None):
        return render_plain(request, "admin/forbidden.html", status=403,
                            heading=texts.ADMIN_CSRF_TITLE, message=texts.ADMIN_CSRF_TEXT)
    username, password = field_text(data, "username", 64), data.get("password")
    if not isinstance(password, str) or not username or not password:
        return _login_form(request, username=username, error=texts.ADMIN_LOGIN_EMPTY,
                           status=400)
    address, now = request.remote or "", console.services.clock()
    if await console.limiter.locked(username, address, now):
        return _login_form(request, username=username, error=texts.ADMIN_LOGIN_LOCKED,
                           status=429)
    token = await asyncio.to_thread(_check_password, console, username, password)
    if token is None:
        await console.limiter.failed(username, address, now)
        locked = await console.limiter.locked(username, address, now)
        return _login_form(request, username=username, status=429 if locked else 401,
                           error=texts.ADMIN_LOGIN_LOCKED if locked else texts.ADMIN_LOGIN_WRONG)
    await console.limiter.succeeded(username, address)
    # A fresh token on every sign-in.
    await in_session(console.services.engine, end_session, request.cookies.get(SESSION_COOKIE))
    next_path = data.get("next")
    found = web.HTTPFound(_safe_next(next_path if isinstance(next_path, str) else None))
    found.set_cookie(SESSION_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Lax",
                     secure=secure_cookies(request))
    found.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    raise found


@page(Role.MEMBER)
async def _logout(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    await in_session(console_of(request).services.engine, end_session,
                     request.cookies.get(SESSION_COOKIE))
    found = redirect(LOGIN_PATH, texts.ADMIN_LOGGED_OUT)
    found.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    raise found
