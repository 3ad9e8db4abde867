"""night talks awaiting confirmation, and repeating night talks

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # Allowed inside a transaction since PostgreSQL 12, as long as nothing here uses it.
        op.execute("ALTER TYPE nighttalkstatus ADD VALUE IF NOT EXISTS 'DRAFT'")
    op.create_table('night_talk_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), nullable=False),
    sa.Column('length_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'ACTIVE', 'CANCELLED',
                                name='nighttalkseriesstatus'), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['chat_group.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('night_talk_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_night_talk_series_group_id'), ['group_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_night_talk_series_status'), ['status'],
                              unique=False)
    with op.batch_alter_table('night_talk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_night_talk_series_id'), ['series_id'],
                              unique=False)
        batch_op.create_foreign_key('fk_night_talk_series_id', 'night_talk_series',
                                    ['series_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('night_talk', schema=None) as batch_op:
        batch_op.drop_constraint('fk_night_talk_series_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_night_talk_series_id'))
        batch_op.drop_column('series_id')
    with op.batch_alter_table('night_talk_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_night_talk_series_status'))
        batch_op.drop_index(batch_op.f('ix_night_talk_series_group_id'))
    op.drop_table('night_talk_series')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TYPE IF EXISTS nighttalkseriesstatus')
