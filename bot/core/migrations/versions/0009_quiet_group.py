"""private web answers and listening tallies

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_id', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))

    op.create_table('listen_tally',
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('told_count', sa.Integer(), nullable=False),
    sa.Column('told_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['chat_group.id'], ),
    sa.PrimaryKeyConstraint('delivery_id')
    )
    with op.batch_alter_table('listen_tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listen_tally_group_id'), ['group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('listen_tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listen_tally_group_id'))

    op.drop_table('listen_tally')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_column('recipient_id')
