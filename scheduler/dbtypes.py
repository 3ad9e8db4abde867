"""Column types and insert helpers shared by every package's tables."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, overload

from sqlalchemy import DateTime, Integer, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
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


# The last datetime written and its text: a row's times are mostly one and the same moment
# (created, updated, and the rows that come with it).
_last_written: tuple[datetime | None, str | None] = (None, None)


def _sqlite_datetime(value: datetime | None) -> str | None:
    """`UTCDateTime`'s stored text on SQLite, as SQLAlchemy's DATETIME writes it."""
    global _last_written
    if value is None:
        return None
    last = _last_written
    if last[0] is value:
        return last[1]
    if value.tzinfo is None:
        raise ValueError("naive datetime given; store aware UTC datetimes")
    moment = value if value.tzinfo is UTC else value.astimezone(UTC)
    text = moment.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"
    _last_written = (value, text)
    return text


def sqlite_text(value: datetime | None) -> str | None:
    """A `UTCDateTime` as SQLite stores it: for comparing in the driver's own statements."""
    return _sqlite_datetime(value)


@dataclass(frozen=True)
class _Call:
    """A column default made by a function (SQLAlchemy's wrapper takes the execution context,
    which these defaults never use)."""

    function: Callable[[Any], Any]

    def make(self) -> Any:
        return self.function(None)


class _SQLiteInsert:
    """One table's `INSERT … ON CONFLICT` through the sqlite3 driver itself: the statement's
    text made once, each row a list of the values SQLAlchemy would bind. SQLAlchemy's own
    execution builds and converts every row's parameters anew, which costs more than SQLite's
    work on them."""

    def __init__(self, table: Table, keys: tuple[str, ...], returning: tuple[str, ...],
                 update: tuple[str, ...], dialect: Dialect) -> None:
        if any(column.server_default is not None for column in table.columns):
            raise ValueError(f"{table.name}: a server default would not be applied")
        self.columns = [column for column in table.columns
                        if not (column.primary_key and column.autoincrement in (True, "auto"))]
        # Per column: its name, what a row without it gets (SQLAlchemy's column default) and
        # how its value is bound (None: as it is).
        self.plan: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        probe = datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
        for column in self.columns:
            convert = column.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(column.type, UTCDateTime) and convert is not None \
                    and convert(probe) == _sqlite_datetime(probe):
                convert = _sqlite_datetime
            default = column.default
            if default is None:
                missing: Any = None
            elif getattr(default, "is_scalar", False):
                missing = default.arg  # type: ignore[attr-defined]
            elif getattr(default, "is_callable", False):
                missing = _Call(default.arg)  # type: ignore[attr-defined]
            else:
                raise ValueError(f"{table.name}.{column.name}: an SQL default is not applied")
            self.plan.append((column.name, missing, convert))
        # The same, split for `values`: what to take from a row, where a default is made by a
        # function, and which values are converted.
        self.names = [name for name, _missing, _convert in self.plan]
        self.missing = [missing for _name, missing, _convert in self.plan]
        self.made = [index for index, (_name, missing, _convert) in enumerate(self.plan)
                     if isinstance(missing, _Call)]
        self.converted = [(index, convert) for index, (_name, _missing, convert)
                          in enumerate(self.plan) if convert is not None]
        conflict = ", ".join(f'"{key}"' for key in keys)
        action = ("DO UPDATE SET " + ", ".join(f'"{name}" = excluded."{name}"' for name in update)
                  if update else "DO NOTHING")
        self.table_name = table.name
        self.on_conflict = f"ON CONFLICT ({conflict}) {action}"
        self.sql = self.statement(range(len(self.columns)))
        # The statements that leave out columns NULL in every row of a batch, by the columns
        # they keep.
        self.statements: dict[tuple[int, ...], str] = {}
        listed = ", ".join(f'"{name}"' for name in returning)
        self.returning = f" RETURNING {listed}" if returning else ""
        # With an integer id as the key of its rows, the rows a batch inserted are read after
        # it (one statement for the batch is cheaper than RETURNING a row at a time).
        ids = list(table.primary_key.columns)
        self.after: str | None = None
        # When every row went in, their ids follow one another up to the last one given:
        # the other columns returned are then the rows' own values (bound as they are), and
        # nothing need be read back. None: read back.
        self.echoed: list[int | None] | None = None
        if returning and len(ids) == 1 and isinstance(ids[0].type, Integer) \
                and ids[0].name not in {column.name for column in self.columns}:
            key = ids[0].name
            self.after = (f'SELECT {listed} FROM "{table.name}" WHERE "{key}" > '
                          f'(SELECT max("{key}") FROM "{table.name}") - ? ORDER BY "{key}"')
            converted = {place for place, _convert in self.converted}
            places = [None if name == key else self.names.index(name) for name in returning]
            if all(place not in converted for place in places):
                self.echoed = places

    def statement(self, kept: Iterable[int]) -> str:
        """The INSERT of the columns at the places `kept`."""
        columns = [self.columns[place] for place in kept]
        names = ", ".join(f'"{column.name}"' for column in columns)
        marks = ", ".join("?" for _column in columns)
        return f'INSERT INTO "{self.table_name}" ({names}) VALUES ({marks}) {self.on_conflict}'

    def without_nulls(self, params: list[list[Any]]) -> tuple[str, Sequence[Sequence[Any]]]:
        """The statement without the columns NULL in every row, and the rows without them:
        SQLite writes NULL into a column left out, and the driver binds a NULL through its
        adaptation protocol, dearer than any other value."""
        columns = list(zip(*params, strict=True))
        rows = len(params)
        kept = tuple(place for place, column in enumerate(columns) if column.count(None) != rows)
        if not kept or len(kept) == len(columns):
            return self.sql, params
        sql = self.statements.get(kept)
        if sql is None:
            sql = self.statements[kept] = self.statement(kept)
        return sql, list(zip(*(columns[place] for place in kept), strict=True))

    def values(self, row: dict[str, Any]) -> list[Any]:
        """The row's parameters in the statement's order, each as SQLAlchemy would bind it."""
        out = list(map(row.get, self.names, self.missing))
        for index in self.made:
            value = out[index]
            if type(value) is _Call:
                out[index] = value.make()
        for index, convert in self.converted:
            value = out[index]
            if value is not None:
                out[index] = convert(value)
        return out

    def run(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        full = [self.values(row) for row in rows]
        sql, params = self.without_nulls(full)
        driver = connection.connection.driver_connection
        # (In autocommit each row would be a transaction of its own: others could write between.)
        if self.after is None or getattr(driver, "isolation_level", None) is None:
            if self.returning:  # executemany() takes no RETURNING: one row at a time
                return driver_rows(connection, sql + self.returning, params, each=True)
            return driver_rows(connection, sql, params, many=True)
        inserted = driver_rows(connection, sql, params, many=True, count=True)
        if not inserted:
            return []
        # The rows inserted are the newest ones: SQLite gives a new row the highest id plus
        # one, and from the batch's first insert on no other connection can write.
        if inserted == len(full) and self.echoed is not None:
            [(last,)] = driver_rows(connection, "SELECT last_insert_rowid()", ())
            first = last - inserted + 1
            return [tuple(first + number if place is None else values[place]
                          for place in self.echoed)
                    for number, values in enumerate(full)]
        return driver_rows(connection, self.after, (inserted,))


@overload
def driver_rows(connection: Connection, sql: str, params: Sequence[Any], *,
                many: bool = False, each: bool = False) -> list[tuple[Any, ...]]: ...
@overload
def driver_rows(connection: Connection, sql: str, params: Sequence[Any], *,
                many: bool, count: Literal[True]) -> int: ...
def driver_rows(connection: Connection, sql: str, params: Sequence[Any], *,
                many: bool = False, each: bool = False, count: bool = False
                ) -> list[tuple[Any, ...]] | int:
    """Run `sql` (the driver's own placeholders) on the connection's driver connection, in
    its transaction; the rows it returns, as the driver gives them. `many`: `params` is a
    list of parameter sets (no rows returned; with `count`, how many rows they changed);
    `each`: the same, run one set at a time and every set's rows returned. Faults are raised
    as SQLAlchemy raises them (OperationalError and the like: the storage could not take it
    now)."""
    driver = connection.connection.driver_connection
    assert driver is not None, "a connection in use has its driver's"
    cursor = driver.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return int(cursor.rowcount) if count else []
        if each:
            found: list[tuple[Any, ...]] = []
            for one in params:
                cursor.execute(sql, one)
                found.extend(cursor.fetchall())
            return found
        cursor.execute(sql, params)
        return cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, None, error,
                                  connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


_SQLITE_INSERTS: dict[tuple[Table, tuple[str, ...], tuple[str, ...], tuple[str, ...]],
                      _SQLiteInsert] = {}


@functools.cache
def _upsert(table: Table, keys: tuple[str, ...], dialect: str, update: tuple[str, ...]
            ) -> Insert:
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update})


def insert_rows(connection: Connection, table: Table, keys: tuple[str, ...],
                rows: Sequence[dict[str, Any]], *, returning: tuple[str, ...] = (),
                update: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts of column values), those whose unique `keys` are stored already
    skipped or, with `update`, those columns overwritten; the `returning` columns of the rows
    inserted. Runs in the caller's transaction.

    On SQLite through the driver directly (the same stored values, less work per row);
    elsewhere one SQLAlchemy statement.
    """
    if not rows:
        return []
    if connection.dialect.name == "sqlite":
        cache_key = (table, keys, returning, update)
        fast = _SQLITE_INSERTS.get(cache_key)
        if fast is None:
            fast = _SQLITE_INSERTS[cache_key] = _SQLiteInsert(table, keys, returning, update,
                                                              connection.dialect)
        return fast.run(connection, rows)
    dialect = connection.dialect.name
    statement = (_upsert(table, keys, dialect, update) if update
                 else ignoring_insert(table, keys, dialect, returning))
    result = connection.execute(statement, list(rows))
    return [tuple(row) for row in result] if returning else []
