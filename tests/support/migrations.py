"""Databases made by an older Yehua: the schema as a given migration left it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from bot.core.db import MIGRATIONS, make_engine


@contextmanager
def database_at(path: Path, revision: str) -> Iterator[Connection]:
    """A new SQLite file at `path` migrated up to `revision` only; the rows written in the
    block are committed with it."""
    engine = make_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection
    finally:
        engine.dispose()
