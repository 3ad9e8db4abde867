"""pending voice messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_voice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('voice_path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['chat_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'message_id')
    )
    with op.batch_alter_table('pending_voice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_voice_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_voice_created_at'), ['created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_voice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_voice_created_at'))
        batch_op.drop_index(batch_op.f('ix_pending_voice_group_id'))

    op.drop_table('pending_voice')
