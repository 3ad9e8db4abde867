"""The migrations build exactly the tables the code reads and writes, on SQLite and PostgreSQL:
an upgraded village database never lacks a column a new feature stores into."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import bot.core.models  # noqa: F401  (the tables the code uses)
import scheduler.models  # noqa: F401
from bot.core.db import open_database


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_the_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'yehua.db'}")
    assert differences(engine) == []
    engine.dispose()


def test_the_migrations_match_the_models_on_postgres(pg_url: str) -> None:
    engine = open_database(pg_url)
    assert differences(engine) == []
    engine.dispose()
