"""notes held for staff review

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_review', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('note_review_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_review', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('note_review_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_lines_note_review'), ['note_review'],
                              unique=False)
        # Check constraints are not compared by autogenerate: written by hand.
        batch_op.create_check_constraint(
            'note_review', "note_review in ('pending', 'approved', 'rejected')"
        )


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_lines_note_review'), type_='check')
        batch_op.drop_index(batch_op.f('ix_order_lines_note_review'))
        batch_op.drop_column('note_review_reason')
        batch_op.drop_column('note_review')

    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.drop_column('note_review_reason')
        batch_op.drop_column('note_review')
