"""chat message replies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 03:23:29.978353
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_chat_message_reply_to_id', 'chat_message', ['reply_to_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_chat_message_reply_to_id', type_='foreignkey')
        batch_op.drop_column('reply_to_id')

