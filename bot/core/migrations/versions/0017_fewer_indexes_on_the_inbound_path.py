"""fewer indexes written with every suggestion, points entry and member the chat brings in

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HAS_DEADLINE = sa.text("due_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_group_id')
        batch_op.drop_index('ix_suggestion_author_id')
        batch_op.drop_index('ix_suggestion_category')
        batch_op.drop_index('ix_suggestion_due_at')
        batch_op.create_index('ix_suggestion_group_author', ['group_id', 'author_id'],
                              unique=False)
        batch_op.create_index('ix_suggestion_due_at', ['due_at'], unique=False,
                              sqlite_where=_HAS_DEADLINE, postgresql_where=_HAS_DEADLINE)
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entry_group_id')
        batch_op.drop_index('ix_points_entry_user_id')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_group_id')


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index('ix_member_group_id', ['group_id'], unique=False)
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.create_index('ix_points_entry_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_points_entry_group_id', ['group_id'], unique=False)
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_due_at')
        batch_op.drop_index('ix_suggestion_group_author')
        batch_op.create_index('ix_suggestion_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_suggestion_category', ['category'], unique=False)
        batch_op.create_index('ix_suggestion_author_id', ['author_id'], unique=False)
        batch_op.create_index('ix_suggestion_group_id', ['group_id'], unique=False)
