"""the messages a donor gets: five new kinds of side effect, and side effects of a plan

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 14:00:00.000000

Written by hand. A side effect now belongs to an order, a unit or a monthly plan (the
confirmation of a cancelled plan), exactly one of them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_KINDS = ("'receipt', 'packing_order', 'dispute_alert', 'dedication_notice', "
             "'payment_failed_notice', 'unit_packing_order', 'refund_failed_alert'")
NEW_KINDS = ("'bank_transfer_notice', 'refund_notice', 'shipped_notice', "
             "'note_left_out_notice', 'monthly_cancelled_notice'")
OLD_OWNER = ("(order_id IS NOT NULL AND unit_id IS NULL) OR "
             "(order_id IS NULL AND unit_id IS NOT NULL)")
NEW_OWNER = ("(order_id IS NOT NULL AND unit_id IS NULL AND monthly_gift_id IS NULL) OR "
             "(order_id IS NULL AND unit_id IS NOT NULL AND monthly_gift_id IS NULL) OR "
             "(order_id IS NULL AND unit_id IS NULL AND monthly_gift_id IS NOT NULL)")


def upgrade():
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('monthly_gift_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_side_effects_monthly_gift_id'),
                              ['monthly_gift_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_side_effects_monthly_gift_id_monthly_gifts'),
                                    'monthly_gifts', ['monthly_gift_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_side_effects_plan_kind',
                                          ['monthly_gift_id', 'kind'])
        batch_op.drop_constraint(op.f('ck_side_effects_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind in ({OLD_KINDS}, {NEW_KINDS})")
        batch_op.drop_constraint(op.f('ck_side_effects_one_owner'), type_='check')
        batch_op.create_check_constraint('one_owner', NEW_OWNER)


def downgrade():
    op.execute(f"DELETE FROM side_effects WHERE kind in ({NEW_KINDS}) "
               "OR monthly_gift_id IS NOT NULL")
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_side_effects_one_owner'), type_='check')
        batch_op.create_check_constraint('one_owner', OLD_OWNER)
        batch_op.drop_constraint(op.f('ck_side_effects_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind in ({OLD_KINDS})")
        batch_op.drop_constraint('uq_side_effects_plan_kind', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_side_effects_monthly_gift_id_monthly_gifts'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_side_effects_monthly_gift_id'))
        batch_op.drop_column('monthly_gift_id')
