"""handlers photos hamlets attendance ledger

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hamlet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['chat_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'name')
    )
    with op.batch_alter_table('hamlet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hamlet_group_id'), ['group_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night_talk_id', sa.Integer(), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('how', sa.Enum('CHECK_IN', 'SUGGESTION', 'IN_PERSON', name='attendancehow'), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['night_talk_id'], ['night_talk.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('night_talk_id', 'person')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_night_talk_id'), ['night_talk_id'], unique=False)

    op.create_table('photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('RAISED', 'DONE', name='photokind'), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('thumb_path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('uploader_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('uploader_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['chat_group.id'], ),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestion.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_suggestion_id'), ['suggestion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_uploader_id'), ['uploader_id'], unique=False)

    with op.batch_alter_table('chat_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ledger_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_chat_group_ledger_key'), ['ledger_key'], unique=True)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hamlet_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_hamlet_id'), ['hamlet_id'], unique=False)
        batch_op.create_foreign_key('fk_member_hamlet_id_hamlet', 'hamlet', ['hamlet_id'], ['id'])

    with op.batch_alter_table('night_talk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_ins', sa.Integer(), nullable=False,
                                      server_default='0'))

    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handler_user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('handler_phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('handler_role', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_suggestion_due_at'), ['due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_due_at'))
        batch_op.drop_column('done_at')
        batch_op.drop_column('due_at')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('handler_role')
        batch_op.drop_column('handler_phone')
        batch_op.drop_column('handler_user_id')

    with op.batch_alter_table('night_talk', schema=None) as batch_op:
        batch_op.drop_column('walk_ins')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint('fk_member_hamlet_id_hamlet', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_member_hamlet_id'))
        batch_op.drop_column('hamlet_id')

    with op.batch_alter_table('chat_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_group_ledger_key'))
        batch_op.drop_column('ledger_key')

    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_photo_suggestion_id'))
        batch_op.drop_index(batch_op.f('ix_photo_sha256'))
        batch_op.drop_index(batch_op.f('ix_photo_group_id'))
        batch_op.drop_index(batch_op.f('ix_photo_created_at'))

    op.drop_table('photo')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_night_talk_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('hamlet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hamlet_group_id'))

    op.drop_table('hamlet')
