"""the answers waiting in a chat found by their own index; only sent ones indexed by when

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITING = sa.text("sent_at IS NULL")
_SENT = sa.text("sent_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index('ix_reply_sent_at')
        batch_op.create_index('ix_reply_sent_at', ['sent_at'], unique=False,
                              sqlite_where=_SENT, postgresql_where=_SENT)
        batch_op.create_index('ix_reply_waiting', ['platform', 'chat_id', 'id'], unique=False,
                              sqlite_where=_WAITING, postgresql_where=_WAITING)


def downgrade() -> None:
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index('ix_reply_waiting')
        batch_op.drop_index('ix_reply_sent_at')
        batch_op.create_index('ix_reply_sent_at', ['sent_at'], unique=False)
