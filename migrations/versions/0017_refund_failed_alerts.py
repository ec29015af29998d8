"""side effects: a staff alert when a refund fails after it succeeded

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 14:00:00.000000
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

KINDS_BEFORE = ("kind in ('receipt', 'packing_order', 'dispute_alert', 'dedication_notice', "
                "'payment_failed_notice', 'unit_packing_order')")
KINDS_AFTER = ("kind in ('receipt', 'packing_order', 'dispute_alert', 'dedication_notice', "
               "'payment_failed_notice', 'unit_packing_order', 'refund_failed_alert')")


def upgrade():
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_side_effects_kind'), type_='check')
        batch_op.create_check_constraint('kind', KINDS_AFTER)


def downgrade():
    op.execute("DELETE FROM side_effects WHERE kind = 'refund_failed_alert'")
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_side_effects_kind'), type_='check')
        batch_op.create_check_constraint('kind', KINDS_BEFORE)
