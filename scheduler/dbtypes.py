"""Column types and insert helpers shared by every package's tables."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@functools.cache
def ignoring_insert(table: Table, keys: tuple[str, ...], dialect: str,
                    returning: tuple[str, ...] = ("id",)) -> Insert:
    """`INSERT … ON CONFLICT (keys) DO NOTHING RETURNING …` for `table`, built once.

    Executed with a dict of values (or a list of them: one multi-row statement), so SQLAlchemy
    compiles it once and every later insert costs only the database's own work.
    """
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(keys))
    if returning:
        return statement.returning(*(table.c[name] for name in returning))
    return statement


def insert_once(db: Session, row: SQLModel, keys: Sequence[str]) -> int | None:
    """Insert `row` unless a row with the same unique `keys` exists; its new id, else None."""
    model = type(row)
    dialect = db.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        # One atomic INSERT … ON CONFLICT DO NOTHING: no savepoint (which pysqlite mishandles),
        # a racing session waits for ours to commit and then finds the row, and the caller's
        # transaction is never disturbed.
        table: Table = model.__table__  # type: ignore[attr-defined]
        statement = ignoring_insert(table, tuple(keys), dialect)
        new_id = db.execute(statement, row.model_dump(exclude={"id"})).scalar_one_or_none()
        return int(new_id) if new_id is not None else None
    try:
        with db.begin_nested():
            db.add(row)
        return getattr(row, "id", None)
    except IntegrityError:
        return None
