"""receipts made from suggestion rows sent up to a mark per chat, not cleared row by row

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FROM_ROW = sa.text("receipt_from_row IS NOT NULL")
_WAITING = sa.text("receipt_waiting IS NOT NULL")


def upgrade() -> None:
    # The receipts still waiting keep their mark, and no chat has one sent yet: they go.
    op.create_table('receipt_sent',
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('through', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'chat_id')
    )
    op.drop_index('ix_suggestion_receipt_waiting', table_name='suggestion')
    # (Both SQLite and PostgreSQL rename a column in place: no copy of the table.)
    op.execute('ALTER TABLE suggestion RENAME COLUMN receipt_waiting TO receipt_from_row')
    op.create_index('ix_suggestion_receipt_from_row', 'suggestion', ['platform', 'chat_id', 'id'],
                    unique=False, sqlite_where=_FROM_ROW, postgresql_where=_FROM_ROW)


def downgrade() -> None:
    # Those at or below their chat's mark went out: no longer waiting.
    op.execute("UPDATE suggestion SET receipt_from_row = NULL WHERE receipt_from_row IS NOT NULL "
               "AND id <= (SELECT through FROM receipt_sent WHERE receipt_sent.platform = "
               "suggestion.platform AND receipt_sent.chat_id = suggestion.chat_id)")
    op.drop_index('ix_suggestion_receipt_from_row', table_name='suggestion')
    op.execute('ALTER TABLE suggestion RENAME COLUMN receipt_from_row TO receipt_waiting')
    op.create_index('ix_suggestion_receipt_waiting', 'suggestion', ['platform', 'chat_id', 'id'],
                    unique=False, sqlite_where=_WAITING, postgresql_where=_WAITING)
    op.drop_table('receipt_sent')
