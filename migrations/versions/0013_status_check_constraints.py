"""check constraints on every status: orders, side effects, Stripe events, refund requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:00:00.000000

Check constraints are not compared by autogenerate: written by hand, with the values of
the status enums at this revision (the models generate theirs from the enums, and
tests/integration/test_migrations.py checks the two agree).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Units, unit places and monthly gifts have had theirs since they were made.
NEW = {
    'orders': "status in ('pending', 'awaiting_payment', 'paid', 'failed', 'expired', "
              "'needs_review', 'fulfilled', 'partially_refunded', 'refunded', 'disputed', "
              "'dispute_lost')",
    'side_effects': "status in ('pending', 'held', 'done', 'failed', 'cancelled')",
    'stripe_events': "status in ('received', 'processed', 'ignored', 'unmatched')",
    'refund_requests': "status in ('requested', 'submitted', 'failed')",
}


def upgrade():
    for table, condition in NEW.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint('status', condition)


def downgrade():
    for table in reversed(list(NEW)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_status'), type_='check')
