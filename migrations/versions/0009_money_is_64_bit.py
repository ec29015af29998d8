"""money columns are 64-bit: totals pass 2^31 cents

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00.000000

Written by hand. SQLite's INTEGER is already 64-bit and keeps its name there, so only
PostgreSQL changes. Each ALTER rewrites its table under an exclusive lock: on a large
orders table, run it while the shop is quiet.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# (table, column, nullable). stripe_created is a Unix time: 32 bits end in January 2038.
COLUMNS = (
    ('bundles', 'price_cents', False),
    ('campaign_totals', 'raised_cents', False),
    ('orders', 'total_cents', False),
    ('orders', 'amount_received_cents', True),
    ('orders', 'refunded_cents', False),
    ('order_lines', 'unit_price_cents', False),
    ('cart_lines', 'amount_cents', True),
    ('cart_lines', 'fee_cents', False),
    ('monthly_gifts', 'amount_cents', False),
    ('monthly_gifts', 'fee_cents', False),
    ('refund_requests', 'amount_cents', False),
    ('year_end_statements', 'total_cents', False),
    ('stripe_events', 'stripe_created', True),
)


def _alter(old, new):
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=new, existing_type=old,
                        existing_nullable=nullable)


def upgrade():
    _alter(sa.Integer(), sa.BigInteger())


def downgrade():
    _alter(sa.BigInteger(), sa.Integer())
