"""a suggestion's plain receipt made from its own row while it waits to be sent

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITING = sa.text("receipt_waiting IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_waiting', sa.Boolean(), nullable=True))
        batch_op.create_index('ix_suggestion_receipt_waiting', ['platform', 'chat_id', 'id'],
                              unique=False, sqlite_where=_WAITING, postgresql_where=_WAITING)


def downgrade() -> None:
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_receipt_waiting')
        batch_op.drop_column('receipt_waiting')
