"""Console accounts and sessions: argon2id passwords and hashed session tokens."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from bot import texts
from bot.core.models import ConsoleSession, ConsoleUser, LoginFailure, Role
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
SLIDE_EVERY = timedelta(minutes=5)  # the sliding expiry is written at most this often
USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,32}")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
NAME_MAX = 40
TOKEN_MAX = 100
ADDRESS_MAX = 64  # an IPv6 address with its zone fits; anything longer is cut

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory parameters.
_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account request that cannot be carried out; the message is Chinese, for the user."""


def hash_password(password: str) -> str:
    """The argon2id PHC string of `password`, or AccountError when it is too short or long."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(texts.ADMIN_PASSWORD_SHORT.format(n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise AccountError(texts.ADMIN_PASSWORD_LONG.format(n=PASSWORD_MAX))
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so a wrong name is as slow as a wrong password."""
    return _hasher.hash(secrets.token_hex(16))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_user(db: Session, username: str) -> ConsoleUser | None:
    """The account called `username` (case-insensitive), or None."""
    name = username.strip().lower()
    return db.exec(select(ConsoleUser).where(ConsoleUser.username == name)).first()


def create_user(db: Session, username: str, display_name: str, password: str,
                role: Role) -> ConsoleUser:
    """Add a console account; AccountError when the name is taken or a field is not valid."""
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError(texts.ADMIN_USERNAME_BAD)
    display = display_name.strip()
    if not display or len(display) > NAME_MAX:
        raise AccountError(texts.ADMIN_DISPLAY_NAME_BAD.format(n=NAME_MAX))
    if find_user(db, name) is not None:
        raise AccountError(texts.ADMIN_USERNAME_TAKEN.format(username=name))
    user = ConsoleUser(username=name, display_name=display, password_hash=hash_password(password),
                       role=Role(role))
    db.add(user)
    db.flush()
    log.info("console account %s added (%s)", name, user.role.value)
    return user


def set_password(db: Session, user: ConsoleUser, password: str) -> None:
    """Give `user` a new password and sign them out everywhere."""
    user.password_hash = hash_password(password)
    db.add(user)
    end_sessions(db, user)


def set_disabled(db: Session, user: ConsoleUser, disabled: bool) -> None:
    """Disable (signing out everywhere) or enable an account."""
    user.disabled = disabled
    db.add(user)
    if disabled:
        end_sessions(db, user)


def end_sessions(db: Session, user: ConsoleUser) -> None:
    """Sign `user` out of every browser."""
    db.exec(delete(ConsoleSession).where(col(ConsoleSession.user_id) == user.id))
    db.flush()


def authenticate(db: Session, username: str, password: str) -> ConsoleUser | None:
    """The enabled account whose password this is, or None (slow either way: argon2)."""
    user = find_user(db, username)
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        db.add(user)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Session, user: ConsoleUser, now: datetime | None = None) -> str:
    """Sign `user` in: store the hash of a fresh random token and return the token itself."""
    now = now or utcnow()
    assert user.id is not None, "a stored account has an id"
    db.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) < now))
    token = secrets.token_urlsafe(32)
    db.add(ConsoleSession(token_hash=_digest(token), user_id=user.id,
                          csrf_token=secrets.token_urlsafe(32), created_at=now,
                          expires_at=now + SESSION_TTL))
    user.last_login_at = now
    db.add(user)
    db.flush()
    return token


def load_session(db: Session, token: str | None, now: datetime | None = None
                 ) -> tuple[ConsoleUser, ConsoleSession] | None:
    """The account and session of a cookie token, sliding its expiry; None if not valid."""
    if not token or len(token) > TOKEN_MAX:
        return None
    now = now or utcnow()
    found = db.exec(select(ConsoleSession).where(
        ConsoleSession.token_hash == _digest(token))).first()
    if found is None:
        return None
    user = db.get(ConsoleUser, found.user_id)
    if found.expires_at <= now or user is None or user.disabled:
        db.delete(found)
        return None
    if found.expires_at - SESSION_TTL + SLIDE_EVERY <= now:
        found.expires_at = now + SESSION_TTL
        db.add(found)
    return user, found


def end_session(db: Session, token: str | None) -> None:
    """Sign one browser out: its session row is deleted, so the cookie is worthless."""
    if token and len(token) <= TOKEN_MAX:
        db.exec(delete(ConsoleSession).where(
            col(ConsoleSession.token_hash) == _digest(token)))


# --- failed sign-ins: kept in the database, so a restart or a second instance forgets none ---

def _failure_key(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower(), address[:ADDRESS_MAX]


def record_login_failure(db: Session, username: str, address: str, now: datetime) -> None:
    """Remember one failed sign-in of `username` from `address`."""
    name, where = _failure_key(username, address)
    db.add(LoginFailure(username=name, address=where, failed_at=now))
    db.flush()


def count_login_failures(db: Session, username: str, address: str, since: datetime) -> int:
    """How many times `username` failed to sign in from `address` after `since`."""
    name, where = _failure_key(username, address)
    query = select(func.count()).select_from(LoginFailure).where(
        col(LoginFailure.username) == name, col(LoginFailure.address) == where,
        col(LoginFailure.failed_at) > since)
    return int(db.exec(query).one())


def clear_login_failures(db: Session, username: str, address: str) -> None:
    """Forget the failures of a pair that just signed in."""
    name, where = _failure_key(username, address)
    db.exec(delete(LoginFailure).where(col(LoginFailure.username) == name,
                                       col(LoginFailure.address) == where))


def prune_login_failures(db: Session, before: datetime) -> int:
    """Delete failures at or before `before` (outside every lockout window); how many."""
    done = db.exec(delete(LoginFailure).where(col(LoginFailure.failed_at) <= before))
    return int(done.rowcount)
