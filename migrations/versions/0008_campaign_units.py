"""campaign totals, units and their places; join_unit on lines; side effects of a unit

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 05:00:00.000000

Written by hand.
"""
from alembic import op
import sqlalchemy as sa

import shop.extensions


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

KINDS_BEFORE = ("kind in ('receipt', 'packing_order', 'dispute_alert', 'dedication_notice', "
                "'payment_failed_notice')")
KINDS_AFTER = ("kind in ('receipt', 'packing_order', 'dispute_alert', 'dedication_notice', "
               "'payment_failed_notice', 'unit_packing_order')")
ONE_OWNER = ("(order_id IS NOT NULL AND unit_id IS NULL) OR "
             "(order_id IS NULL AND unit_id IS NOT NULL)")


def upgrade():
    op.create_table('campaign_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('packages_funded', sa.Integer(), nullable=False),
    sa.Column('raised_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refreshed_at', shop.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_totals')),
    sa.UniqueConstraint('name', name=op.f('uq_campaign_totals_name'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', shop.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filled_at', shop.extensions.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', shop.extensions.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("status in ('open', 'full', 'shipping', 'shipped', 'held')",
                       name=op.f('ck_units_status')),
    sa.CheckConstraint('size >= 1', name=op.f('ck_units_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('number', name=op.f('uq_units_number'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_status'), ['status'], unique=False)

    op.create_table('unit_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', shop.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', shop.extensions.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('funded', 'released')", name=op.f('ck_unit_places_status')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_unit_places_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'],
                            name=op.f('fk_unit_places_order_line_id_order_lines'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                            name=op.f('fk_unit_places_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_places'))
    )
    with op.batch_alter_table('unit_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_places_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_places_order_line_id'), ['order_line_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_unit_places_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_places_unit_id'), ['unit_id'], unique=False)

    # Lines made before units existed did not join one.
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_unit', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_unit', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))

    # A side effect now belongs to an order or to a unit (its packing order), never both.
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.alter_column('order_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_side_effects_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_side_effects_unit_id_units'), 'units',
                                    ['unit_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_side_effects_unit_kind', ['unit_id', 'kind'])
        # Check constraints are not compared by autogenerate: written by hand.
        batch_op.drop_constraint(op.f('ck_side_effects_kind'), type_='check')
        batch_op.create_check_constraint('kind', KINDS_AFTER)
        batch_op.create_check_constraint('one_owner', ONE_OWNER)


def downgrade():
    op.execute("DELETE FROM side_effects WHERE unit_id IS NOT NULL")
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_side_effects_one_owner'), type_='check')
        batch_op.drop_constraint(op.f('ck_side_effects_kind'), type_='check')
        batch_op.create_check_constraint('kind', KINDS_BEFORE)
        batch_op.drop_constraint('uq_side_effects_unit_kind', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_side_effects_unit_id_units'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_side_effects_unit_id'))
        batch_op.drop_column('unit_id')
        batch_op.alter_column('order_id', existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('join_unit')
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.drop_column('join_unit')

    with op.batch_alter_table('unit_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_places_unit_id'))
        batch_op.drop_index(batch_op.f('ix_unit_places_status'))
        batch_op.drop_index(batch_op.f('ix_unit_places_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_unit_places_order_id'))
    op.drop_table('unit_places')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_status'))
    op.drop_table('units')
    op.drop_table('campaign_totals')
