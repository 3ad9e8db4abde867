"""Alembic environment: runs on the connection handed in by bot.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.core.models  # noqa: F401
import scheduler.models  # noqa: F401

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # e.g. `alembic revision --autogenerate` from the command line
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///data/yehua.db"
    connection = create_engine(url).connect()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
