"""Console accounts (admin only): add one, change its role, disable it, set a new password."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web
from sqlmodel import Session, col, select

from bot import texts
from bot.admin.core import (
    Console,
    FormData,
    Viewer,
    console_of,
    field_text,
    form,
    page,
    redirect,
    render,
    whole_number,
)
from bot.core.db import in_session, session
from bot.core.models import ConsoleUser, Role
from bot.domain.accounts import AccountError, create_user, set_disabled, set_password

ROLES = (Role.MEMBER, Role.FACILITATOR, Role.SECRETARY, Role.ADMIN)
BACK = "/admin/users"


@page(Role.ADMIN)
async def user_list(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Every account, with a form to add one."""
    accounts = await in_session(console_of(request).services.engine, lambda db: list(
        db.exec(select(ConsoleUser).order_by(col(ConsoleUser.username)))))
    return render(request, viewer, "admin/users.html", accounts=accounts, roles=ROLES)


def _role(data: FormData) -> Role:
    try:
        return Role(field_text(data, "role"))
    except ValueError as exc:
        raise AccountError(texts.ADMIN_ROLE_BAD) from exc


def _new_password(data: FormData) -> str:
    password, again = data.get("password"), data.get("password2")
    if not isinstance(password, str) or password != again:
        raise AccountError(texts.ADMIN_PASSWORDS_DIFFER)
    return password


def _change(console: Console, user_id: int | None,
            change: Callable[[Session, ConsoleUser], str]) -> str:
    """Run `change` on one account in a transaction; its message, or AccountError."""
    with session(console.services.engine) as db:
        user = db.get(ConsoleUser, user_id) if user_id is not None else None
        if user is None:
            raise AccountError(texts.ADMIN_USER_MISSING)
        return change(db, user)


async def _act(request: web.Request, change: Callable[[Session, ConsoleUser], str]
               ) -> web.StreamResponse:
    user_id = whole_number(request.match_info["id"])
    try:
        message = await asyncio.to_thread(_change, console_of(request), user_id, change)
    except AccountError as exc:
        raise redirect(BACK, str(exc), error=True) from exc
    raise redirect(BACK, message)


@page(Role.ADMIN)
async def add_user(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Add an account."""
    data = await form(request)
    username, name = field_text(data, "username", 64), field_text(data, "display_name", 100)

    def add() -> str:
        with session(console_of(request).services.engine) as db:
            user = create_user(db, username, name, _new_password(data), _role(data))
            return texts.ADMIN_USER_ADDED.format(username=user.username,
                                                 role=texts.ADMIN_ROLE_LABELS[user.role.value])

    try:
        message = await asyncio.to_thread(add)
    except AccountError as exc:
        raise redirect(BACK, str(exc), error=True) from exc
    raise redirect(BACK, message)


@page(Role.ADMIN)
async def change_role(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Give an account another role (never your own: an admin could lock everyone out)."""
    role = _role_or_none(await form(request))

    def change(db: Session, user: ConsoleUser) -> str:
        if role is None:
            raise AccountError(texts.ADMIN_ROLE_BAD)
        if user.id == viewer.user.id:
            raise AccountError(texts.ADMIN_USER_NOT_SELF)
        user.role = role
        db.add(user)
        return texts.ADMIN_USER_ROLE_SET.format(username=user.username,
                                                role=texts.ADMIN_ROLE_LABELS[role.value])

    return await _act(request, change)


def _role_or_none(data: FormData) -> Role | None:
    try:
        return _role(data)
    except AccountError:
        return None


@page(Role.ADMIN)
async def disable(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Disable an account (signing it out) or enable it again."""
    enable = field_text(await form(request), "enable") == "1"

    def change(db: Session, user: ConsoleUser) -> str:
        if user.id == viewer.user.id:
            raise AccountError(texts.ADMIN_USER_NOT_SELF)
        set_disabled(db, user, not enable)
        done = texts.ADMIN_USER_ENABLED if enable else texts.ADMIN_USER_DISABLED
        return done.format(username=user.username)

    return await _act(request, change)


@page(Role.ADMIN)
async def new_password(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Set a new password for an account (it is signed out everywhere)."""
    data = await form(request)

    def change(db: Session, user: ConsoleUser) -> str:
        set_password(db, user, _new_password(data))
        return texts.ADMIN_USER_PASSWORD_SET.format(username=user.username)

    return await _act(request, change)


def routes(router: web.UrlDispatcher) -> None:
    """Register the accounts pages."""
    router.add_get("/admin/users", user_list)
    router.add_post("/admin/users", add_user)
    router.add_post("/admin/users/{id}/role", change_role)
    router.add_post("/admin/users/{id}/disable", disable)
    router.add_post("/admin/users/{id}/password", new_password)
