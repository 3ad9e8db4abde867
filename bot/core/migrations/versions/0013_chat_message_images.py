"""web chat messages carry a picture

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_message') as batch:
        batch.add_column(sa.Column('image_url', sqlmodel.sql.sqltypes.AutoString(),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_message') as batch:
        batch.drop_column('image_url')
