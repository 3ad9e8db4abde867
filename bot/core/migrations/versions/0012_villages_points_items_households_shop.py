"""villages points items households shop

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scheduler.dbtypes


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('village',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('village_id', 'name')
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_village_id'), ['village_id'], unique=False)

    op.create_table('points_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('award_role', sa.Enum('MEMBER', 'FACILITATOR', 'SECRETARY', 'ADMIN', name='role'), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('yearly_cap', sa.Integer(), nullable=True),
    sa.Column('needs_photo', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('village_id', 'name')
    )
    with op.batch_alter_table('points_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_item_village_id'), ['village_id'], unique=False)

    op.create_table('shop_good',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('village_id', 'name')
    )
    with op.batch_alter_table('shop_good', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_good_village_id'), ['village_id'], unique=False)

    op.create_table('redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('good_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('by_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('by_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['good_id'], ['shop_good.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['chat_group.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_good_id'), ['good_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_village_id'), ['village_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # A batch would rebuild chat_group, and dropping the old table trips the foreign keys
        # of every row that points at a group; SQLite adds a nullable keyed column in place.
        op.execute("ALTER TABLE chat_group ADD COLUMN village_id INTEGER "
                   "CONSTRAINT fk_chat_group_village_id_village REFERENCES village (id)")
        op.create_index(op.f('ix_chat_group_village_id'), 'chat_group', ['village_id'],
                        unique=False)
    else:
        with op.batch_alter_table('chat_group', schema=None) as batch_op:
            batch_op.add_column(sa.Column('village_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f('ix_chat_group_village_id'), ['village_id'],
                                  unique=False)
            batch_op.create_foreign_key('fk_chat_group_village_id_village', 'village',
                                        ['village_id'], ['id'])

    # Every group so far is a village of its own, named after it; a secretary can join groups
    # into one village later.
    connection = op.get_bind()
    groups = connection.execute(sa.text("SELECT id, name, created_at FROM chat_group")).all()
    for group_id, name, created_at in groups:
        village_id = connection.execute(
            sa.text("INSERT INTO village (name, created_at) VALUES (:name, :at) RETURNING id"),
            {"name": name, "at": created_at}).scalar_one()
        connection.execute(sa.text("UPDATE chat_group SET village_id = :v WHERE id = :g"),
                           {"v": village_id, "g": group_id})

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_household_id'), ['household_id'], unique=False)
        batch_op.create_foreign_key('fk_member_household_id_household', 'household',
                                    ['household_id'], ['id'])

    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('by_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('by_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', scheduler.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_points_entry_item_id'), ['item_id'], unique=False)
        batch_op.create_foreign_key('fk_points_entry_item_id_points_item', 'points_item',
                                    ['item_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_points_entry_item_id_points_item', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_points_entry_item_id'))
        batch_op.drop_column('revoke_reason')
        batch_op.drop_column('revoked_by_name')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('by_name')
        batch_op.drop_column('by_id')
        batch_op.drop_column('note')
        batch_op.drop_column('item_id')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint('fk_member_household_id_household', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_member_household_id'))
        batch_op.drop_column('household_id')

    with op.batch_alter_table('chat_group', schema=None) as batch_op:
        batch_op.drop_constraint('fk_chat_group_village_id_village', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_chat_group_village_id'))
        batch_op.drop_column('village_id')

    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemption_village_id'))
        batch_op.drop_index(batch_op.f('ix_redemption_user_id'))
        batch_op.drop_index(batch_op.f('ix_redemption_group_id'))
        batch_op.drop_index(batch_op.f('ix_redemption_good_id'))
        batch_op.drop_index(batch_op.f('ix_redemption_created_at'))

    op.drop_table('redemption')
    with op.batch_alter_table('shop_good', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_good_village_id'))

    op.drop_table('shop_good')
    with op.batch_alter_table('points_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_item_village_id'))

    op.drop_table('points_item')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_village_id'))

    op.drop_table('household')
    op.drop_table('village')
