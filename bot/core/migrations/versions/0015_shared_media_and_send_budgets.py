"""media files and send budgets shared by every instance; PostgreSQL announces what the
scheduler must look at again

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:13:23.866581
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# What a scheduler re-reads when it changes: every instance (and the CLI's changes) is told at
# commit, instead of waiting for the next periodic re-read.
SCHEDULER_CHANNEL = 'yehua_scheduler'
WATCHED = ('schedule', 'schedule_target', 'timer', 'night_talk')


def upgrade() -> None:
    op.create_table('media_file',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('media_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_file_created_at'), ['created_at'], unique=False)

    op.create_table('send_budget',
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('refilled_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account')
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION yehua_scheduler_changed() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('{SCHEDULER_CHANNEL}', TG_TABLE_NAME);
                RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION yehua_scheduler_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_changed ON {table}")
        op.execute("DROP FUNCTION yehua_scheduler_changed()")
    op.drop_table('send_budget')
    with op.batch_alter_table('media_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_file_created_at'))

    op.drop_table('media_file')
