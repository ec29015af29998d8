"""a monthly plan's timeline; Stripe events refused for their API version

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:00:00.000000

Written by hand.
"""
from alembic import op
import sqlalchemy as sa

import shop.extensions


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

EVENTS_BEFORE = "status in ('received', 'processed', 'ignored', 'unmatched')"
EVENTS_AFTER = "status in ('received', 'processed', 'ignored', 'unmatched', 'refused')"


def upgrade():
    op.create_table('monthly_gift_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monthly_gift_id', sa.Integer(), nullable=False),
    sa.Column('created_at', shop.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['monthly_gift_id'], ['monthly_gifts.id'],
                            name=op.f('fk_monthly_gift_events_monthly_gift_id_monthly_gifts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_gift_events'))
    )
    with op.batch_alter_table('monthly_gift_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_gift_events_monthly_gift_id'),
                              ['monthly_gift_id'], unique=False)
    # Check constraints are not compared by autogenerate: written by hand.
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_stripe_events_status'), type_='check')
        batch_op.create_check_constraint('status', EVENTS_AFTER)


def downgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_stripe_events_status'), type_='check')
        batch_op.create_check_constraint('status', EVENTS_BEFORE)
    with op.batch_alter_table('monthly_gift_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_gift_events_monthly_gift_id'))
    op.drop_table('monthly_gift_events')
