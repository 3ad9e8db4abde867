"""member and hamlet changes counted by triggers (SQLite), so members read can be kept

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 00:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A member's role, name or 屋场 changed, a member removed, a 屋场 renamed or removed: each
# counts, whoever wrote it (the bot, the CLI, the console). New members do not: nobody can
# have kept a row that did not exist.
_TRIGGERS = [(f"{table}_{event.lower()}_counted", table, event)
             for table in ("member", "hamlet") for event in ("UPDATE", "DELETE")]


def upgrade() -> None:
    op.create_table('member_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO member_change (id, count) VALUES (1, 0)")
    if op.get_bind().dialect.name != "sqlite":
        return  # only a bot on SQLite keeps the members it read
    for name, table, event in _TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                   "BEGIN UPDATE member_change SET count = count + 1 WHERE id = 1; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, _table, _event in _TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('member_change')
