"""The console's doors: sign-in, lockout, sessions, CSRF, roles, escaping, and `yehua users`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlmodel import select
from typer.testing import CliRunner

from bot.admin import CONSOLE
from bot.app import ENGINE
from bot.cli.main import app as cli_app
from bot.core.db import open_database, session
from bot.core.models import ConsoleSession, ConsoleUser, Group, Role
from bot.domain.accounts import create_user, load_session, set_disabled, start_session
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.app import RunningApp
from tests.support.console import (
    CSRF,
    PASSWORD,
    add_account,
    add_group,
    console_app,
    visitor,
)


def sessions(bot: RunningApp) -> list[ConsoleSession]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(ConsoleSession)))


def set_cookies(response: aiohttp.ClientResponse) -> list[str]:
    return response.headers.getall("Set-Cookie", [])


# --- signing in --------------------------------------------------------------------------------

async def test_every_console_page_sends_a_stranger_to_the_sign_in_page(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        for path in ("/admin", "/admin/lessons", "/admin/calendar", "/admin/groups",
                     "/admin/users", "/admin/suggestions"):
            async with guest.http.get(bot.url + path, allow_redirects=False) as response:
                assert response.status == 302
                assert response.headers["Location"] == f"/admin/login?next={path}"
        status, html = await guest.get("/admin/login")
        assert status == 200 and "登录夜话管理" in html


async def test_a_wrong_password_is_told_in_chinese_and_opens_no_session(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        response = await guest.sign_in("wang", "not-the-password")
        assert response.status == 401
        assert "用户名或密码不对" in await response.text()
        assert not any(c.startswith("yehua_session=") for c in set_cookies(response))
        assert sessions(bot) == []
        unknown = await guest.sign_in("nobody", PASSWORD)
        assert "用户名或密码不对" in await unknown.text()  # the same words: names stay secret
        assert (await guest.get("/admin"))[0] == 302


async def test_signing_in_sets_an_httponly_lax_cookie_whose_token_the_database_never_holds(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY, "王书记")
        response = await guest.sign_in("wang")
        assert response.status == 302 and response.headers["Location"] == "/admin"
        cookie = next(c for c in set_cookies(response) if c.startswith("yehua_session="))
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in attributes and "samesite=lax" in attributes
        assert "path=/admin" in attributes and "secure" not in attributes  # plain http here
        token = cookie.split(";")[0].split("=", 1)[1]
        [stored] = sessions(bot)
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        status, html = await guest.get("/admin")
        assert status == 200 and "王书记" in html
        assert "default-src 'self'" in (await guest.http.get(bot.url + "/admin")).headers[
            "Content-Security-Policy"]


async def test_the_cookie_is_secure_when_the_site_is_served_over_https(
        settings: Settings) -> None:
    settings = replace(settings, public_url="https://yehua.example.cn")
    async with console_app(settings) as bot, aiohttp.ClientSession() as http:
        add_account(bot, "wang", Role.SECRETARY)
        # A client jar keeps Secure cookies off plain http, so the cookie is carried by hand.
        async with http.get(bot.url + "/admin/login") as page:
            form_cookie = next(c for c in set_cookies(page) if c.startswith("yehua_login="))
            token = CSRF.search(await page.text())
        assert token and "secure" in [p.strip().lower() for p in form_cookie.split(";")]
        fields = {"username": "wang", "password": PASSWORD, "csrf_token": token[1]}
        async with http.post(bot.url + "/admin/login", data=fields, allow_redirects=False,
                             headers={"Cookie": form_cookie.split(";")[0]}) as response:
            assert response.status == 302
            cookie = next(c for c in set_cookies(response) if c.startswith("yehua_session="))
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]


async def test_five_failures_lock_that_name_for_fifteen_minutes_even_with_the_right_password(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        add_account(bot, "li", Role.FACILITATOR)
        for _ in range(5):
            await guest.sign_in("wang", "guess-again")
        locked = await guest.sign_in("wang")
        assert locked.status == 429
        assert "15分钟后再试" in await locked.text()
        assert sessions(bot) == []
        async with visitor(bot, "li"):  # only that name is locked
            pass
        later = utcnow() + timedelta(minutes=16)
        bot.app[CONSOLE].services.clock = lambda: later
        assert (await guest.sign_in("wang")).status == 302


async def test_the_next_page_after_sign_in_is_only_ever_a_console_page(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        add_account(bot, "wang", Role.ADMIN)
        for asked, landed in (("/admin/calendar", "/admin/calendar"),
                              ("/admin/lessons/telecom-fraud?profile=湘",
                               "/admin/lessons/telecom-fraud?profile=%E6%B9%98"),
                              ("/admin\r\nSet-Cookie: x=1", "/admin"),
                              ("https://evil.example/admin", "/admin"),
                              ("//evil.example/admin", "/admin")):
            async with visitor(bot) as guest:
                response = await guest.sign_in("wang", next_path=asked)
                assert response.headers["Location"] == landed


async def test_a_disabled_account_is_signed_out_and_cannot_sign_in_again(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot, None) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        assert (await guest.sign_in("wang")).status == 302
        with session(bot.app[ENGINE]) as db:
            user = db.exec(select(ConsoleUser).where(ConsoleUser.username == "wang")).one()
            set_disabled(db, user, True)
        assert (await guest.get("/admin"))[0] == 302
        assert (await guest.sign_in("wang")).status == 401


async def test_signing_out_ends_the_session_on_the_server(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        response = await guest.sign_in("wang")
        cookie = next(c for c in set_cookies(response) if c.startswith("yehua_session="))
        token = cookie.split(";")[0].split("=", 1)[1]
        out = await guest.post("/admin/logout", {}, await guest.token())
        assert out.status == 302 and out.headers["Location"] == "/admin/login"
        assert sessions(bot) == []
        # The old cookie, replayed by someone who copied it, opens nothing.
        async with aiohttp.ClientSession(cookies={"yehua_session": token}) as thief, \
                thief.get(bot.url + "/admin", allow_redirects=False) as replay:
            assert replay.status == 302


def test_a_session_slides_while_used_and_ends_twelve_hours_after_the_last_use(
        tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'console.db'}")
    start = utcnow()
    with session(engine) as db:
        user = create_user(db, "wang", "王书记", PASSWORD, Role.SECRETARY)
        token = start_session(db, user, start)
    for hours in (11, 22, 33):  # used every 11 hours: still signed in after 33
        with session(engine) as db:
            assert load_session(db, token, start + timedelta(hours=hours)) is not None
    with session(engine) as db:
        assert load_session(db, token, start + timedelta(hours=33 + 12, minutes=1)) is None
    with session(engine) as db:
        assert load_session(db, token, start + timedelta(hours=34)) is None  # deleted for good
        assert load_session(db, "not-a-token", start) is None
    engine.dispose()


# --- forms and roles ---------------------------------------------------------------------------

async def test_a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "root", Role.ADMIN)
        group_id = add_group(bot, "枫树屋场群")
        assert (await guest.sign_in("root")).status == 302
        edit = {"name": "改过的名字", "hamlet": "枫树屋场", "timezone": "Asia/Shanghai",
                "speech_profile": "湘"}
        for token in (None, "forged-token"):
            refused = await guest.post(f"/admin/groups/{group_id}", edit, token)
            assert refused.status == 403
            assert "什么都没有改" in await refused.text()
            with session(bot.app[ENGINE]) as db:
                group = db.get(Group, group_id)
                assert group is not None
                assert (group.name, group.speech_profile) == ("枫树屋场群", "普通话")
        accepted = await guest.post(f"/admin/groups/{group_id}", edit,
                                    await guest.token(f"/admin/groups/{group_id}"))
        assert accepted.status == 302
        with session(bot.app[ENGINE]) as db:
            assert db.get(Group, group_id).name == "改过的名字"  # type: ignore[union-attr]


async def test_the_sign_in_form_itself_needs_its_token(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        response = await guest.post("/admin/login", {"username": "wang", "password": PASSWORD})
        assert response.status == 403
        assert sessions(bot) == []


async def test_a_member_role_account_gets_a_polite_page_and_no_secretary_pages(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "zhang", Role.MEMBER, "张大爷")
        assert (await guest.sign_in("zhang")).status == 302
        status, html = await guest.get("/admin")
        assert status == 200 and "普通成员" in html and "张大爷" in html
        assert 'href="/admin/suggestions"' not in html
        for path in ("/admin/suggestions", "/admin/reports", "/admin/lessons",
                     "/admin/calendar", "/admin/groups", "/admin/users"):
            status, html = await guest.get(path)
            assert status == 403, path
            assert "没有权限" in html


async def test_a_facilitator_cannot_reach_accounts_or_groups_nor_add_an_account(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李伯")
        assert (await guest.sign_in("libo")).status == 302
        status, html = await guest.get("/admin")
        assert status == 200 and 'href="/admin/users"' not in html
        assert (await guest.get("/admin/lessons"))[0] == 200
        assert (await guest.get("/admin/users"))[0] == 403
        assert (await guest.get("/admin/groups"))[0] == 403
        sneaky = await guest.post("/admin/users", {
            "username": "sneaky", "display_name": "x", "role": "admin",
            "password": PASSWORD, "password2": PASSWORD}, await guest.token())
        assert sneaky.status == 403
        with session(bot.app[ENGINE]) as db:
            assert db.exec(select(ConsoleUser).where(ConsoleUser.username == "sneaky")
                           ).first() is None


async def test_markup_in_a_group_name_or_lesson_title_is_shown_as_text(
        settings: Settings, lessons_copy: Path) -> None:
    source = (lessons_copy / "telecom-fraud.md").read_text(encoding="utf-8")
    title = re.search(r"^title: (.*)$", source, re.M)
    assert title
    (lessons_copy / "telecom-fraud.md").write_text(
        source.replace(title[0], "title: <script>alert('课')</script>防诈骗"), encoding="utf-8")
    settings = replace(settings, lessons_dir=lessons_copy)
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "root", Role.ADMIN)
        add_group(bot, '<img src=x onerror="alert(1)">枫树群')
        assert (await guest.sign_in("root")).status == 302
        for path in ("/admin/lessons", "/admin/lessons/telecom-fraud", "/admin/groups",
                     "/admin/calendar"):
            status, html = await guest.get(path)
            assert status == 200, path
            assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#39;课&#39;)&lt;/script&gt;防诈骗" in (
            await guest.get("/admin/lessons"))[1]
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;枫树群" in (
            await guest.get("/admin/groups"))[1]


# --- yehua users --------------------------------------------------------------------------------

def yehua(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {"YEHUA_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    result = CliRunner().invoke(cli_app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_users_add_list_disable_passwd_round_trip(tmp_path: Path) -> None:
    code, out = yehua(tmp_path, "users", "add", "wang", "--name", "王书记", "--role", "书记",
                      "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, out
    assert "已添加账号 wang" in out
    code, out = yehua(tmp_path, "users", "list")
    assert "wang" in out and "王书记" in out and "书记或文书" in out and "正常" in out

    engine = open_database(f"sqlite:///{tmp_path / 'data' / 'yehua.db'}")
    with session(engine) as db:
        user = db.exec(select(ConsoleUser)).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        first_hash = user.password_hash

    code, out = yehua(tmp_path, "users", "passwd", "wang", "--password-stdin",
                      stdin="another-password\n")
    assert code == 0 and "密码已改好" in out
    code, out = yehua(tmp_path, "users", "disable", "wang")
    assert code == 0 and "已停用" in out
    assert "已停用" in yehua(tmp_path, "users", "list")[1]
    with session(engine) as db:
        user = db.exec(select(ConsoleUser)).one()
        assert user.disabled and user.password_hash != first_hash
    engine.dispose()


def test_users_add_asks_for_the_password_twice(tmp_path: Path) -> None:
    code, out = yehua(tmp_path, "users", "add", "li", "--name", "李伯", "--role", "facilitator",
                      stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, out
    assert "话事佬" in out


def test_users_commands_refuse_bad_input_in_chinese(tmp_path: Path) -> None:
    assert yehua(tmp_path, "users", "add", "wang", "--name", "王", "--password-stdin",
                 stdin="short\n")[1].count("至少要 8 位") == 1
    code, out = yehua(tmp_path, "users", "add", "wang", "--name", "王", "--role", "boss",
                      "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 1 and "不认识" in out
    assert yehua(tmp_path, "users", "add", "wang", "--name", "王", "--password-stdin",
                 stdin=PASSWORD + "\n")[0] == 0
    code, out = yehua(tmp_path, "users", "add", "WANG", "--name", "王", "--password-stdin",
                      stdin=PASSWORD + "\n")
    assert code == 1 and "已经有人用了" in out
    code, out = yehua(tmp_path, "users", "disable", "nobody")
    assert code == 1 and "没有账号「nobody」" in out
