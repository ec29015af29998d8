"""a monthly plan's timeline

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 11:00:00.000000

Written by hand.
"""
from alembic import op
import sqlalchemy as sa

import shop.extensions


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


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


def downgrade():
    with op.batch_alter_table('monthly_gift_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_gift_events_monthly_gift_id'))
    op.drop_table('monthly_gift_events')
