"""lessons live in the database with their versions and recordings; machine transcripts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 06:19:01.338488
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lesson_recording',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('audio', sa.LargeBinary(), nullable=False),
    sa.Column('audio_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('cues', sa.Text(), nullable=False),
    sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lesson_recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_recording_lesson_id'), ['lesson_id'], unique=False)

    op.create_table('lesson_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin', sa.Enum('FILE', 'CONSOLE', 'CLI', name='lessonorigin'), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lesson_id', 'number')
    )
    with op.batch_alter_table('lesson_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_version_lesson_id'), ['lesson_id'], unique=False)

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('file_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('conflict_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('archived_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('machine_text', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_column('machine_text')

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('conflict_hash')
        batch_op.drop_column('file_hash')
        batch_op.drop_column('version')
        batch_op.drop_column('source')

    with op.batch_alter_table('lesson_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_version_lesson_id'))

    op.drop_table('lesson_version')
    with op.batch_alter_table('lesson_recording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_recording_lesson_id'))

    op.drop_table('lesson_recording')
    sa.Enum(name='lessonorigin').drop(op.get_bind(), checkfirst=True)
