"""Failed sign-ins are counted in the database: a restart or a second instance forgets none."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.admin import CONSOLE
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import LoginFailure, Role
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.console import add_account, console_app, visitor


async def test_failures_before_a_restart_still_lock_the_name_after_it(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        for _ in range(4):
            assert (await guest.sign_in("wang", "guess-again")).status == 401

    async with console_app(settings) as restarted, visitor(restarted) as guest:
        assert (await guest.sign_in("wang", "guess-once-more")).status == 429
        locked = await guest.sign_in("wang")  # the right password, too late
        assert locked.status == 429 and "15分钟后再试" in await locked.text()


async def test_two_instances_on_one_database_share_the_count(settings: Settings) -> None:
    async with console_app(settings) as one, console_app(settings) as two, \
            visitor(one) as at_one, visitor(two) as at_two:
        add_account(one, "wang", Role.SECRETARY)
        for guest in (at_one, at_two, at_one, at_two):
            assert (await guest.sign_in("wang", "guess-again")).status == 401
        assert (await at_one.sign_in("wang", "guess-again")).status == 429
        assert (await at_two.sign_in("wang")).status == 429


async def test_the_lock_ends_with_its_window_and_a_sign_in_clears_the_count(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY)
        for _ in range(5):
            await guest.sign_in("wang", "guess-again")
        assert (await guest.sign_in("wang")).status == 429
        later = utcnow() + timedelta(minutes=16)
        bot.app[CONSOLE].services.clock = lambda: later
        assert (await guest.sign_in("wang", "guess-again")).status == 401
        with session(bot.app[ENGINE]) as db:
            kept = list(db.exec(select(LoginFailure)))
        assert len(kept) == 1, "failures outside the window are let go"
        assert (await guest.sign_in("wang")).status == 302
        with session(bot.app[ENGINE]) as db:
            assert list(db.exec(select(LoginFailure))) == []
