"""console users and sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 03:28:27.987924
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sa.Enum('MEMBER', 'FACILITATOR', 'SECRETARY', 'ADMIN', name='role'), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('console_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_user_username'), ['username'], unique=True)

    op.create_table('console_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['console_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_session_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_console_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_console_session_token_hash'))

    op.drop_table('console_session')
    with op.batch_alter_table('console_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_user_username'))

    op.drop_table('console_user')
