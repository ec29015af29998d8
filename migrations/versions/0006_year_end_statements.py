"""year-end statements sent to donors

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import shop.extensions


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('year_end_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.Column('sent_at', shop.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_year_end_statements')),
    sa.UniqueConstraint('email', 'year', 'currency', name=op.f('uq_year_end_statements_email'))
    )


def downgrade():
    op.drop_table('year_end_statements')
