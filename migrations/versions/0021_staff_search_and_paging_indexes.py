"""staff pages at any size: trigram indexes for search, (created_at, id) for paging, paid_at

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 14:00:00.000000

Written by hand. On PostgreSQL the pg_trgm extension is created (a trusted extension: the
database's owner may create it) and GIN trigram indexes answer the staff search's
contains-matches on order number, email, name and dedication name. They are built
CONCURRENTLY, so a shop with many orders keeps taking them while the indexes build
(several minutes at a million orders). SQLite has no trigram indexes and gets only the
b-tree ones.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

TRIGRAM = (
    ('ix_orders_number_trgm', 'orders', 'number'),
    ('ix_orders_email_trgm', 'orders', 'email'),
    ('ix_orders_name_trgm', 'orders', 'name'),
    ('ix_order_lines_dedication_name_trgm', 'order_lines', 'dedication_name'),
)


def _postgres():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_created_at_id', ['created_at', 'id'], unique=False)
        # PostgreSQL keeps the dashboard's columns in the index (index-only scans).
        batch_op.create_index('ix_orders_paid_at', ['paid_at'], unique=False,
                              postgresql_include=['id', 'kind', 'total_cents',
                                                  'refunded_cents', 'monthly_gift_id'])
        batch_op.drop_index('ix_orders_created_at')
    if not _postgres():
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    with op.get_context().autocommit_block():
        for name, table, column in TRIGRAM:
            op.create_index(name, table, [column], unique=False, postgresql_using='gin',
                            postgresql_ops={column: 'gin_trgm_ops'},
                            postgresql_concurrently=True, if_not_exists=True)


def downgrade():
    if _postgres():
        for name, table, _ in TRIGRAM:
            op.drop_index(name, table_name=table)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_created_at', ['created_at'], unique=False)
        batch_op.drop_index('ix_orders_paid_at')
        batch_op.drop_index('ix_orders_created_at_id')
