"""campaign totals

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-29 05:00:00.000000

Written by hand. The revision id leaves room for revisions on other branches; the
merge re-chains down_revision.
"""
from alembic import op
import sqlalchemy as sa

import shop.extensions


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


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


def downgrade():
    op.drop_table('campaign_totals')
