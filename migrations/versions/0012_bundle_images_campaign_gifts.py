"""a picture and its alt text for each bundle; the campaign's count of gifts

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 10:00:00.000000

Written by hand.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_path', sa.String(length=500), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('image_alt', sa.String(length=300), server_default='',
                                      nullable=False))
    with op.batch_alter_table('campaign_totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gifts', sa.Integer(), server_default='0',
                                      nullable=False))
    # The cached totals predate the count of gifts: recount them on the next change.
    op.execute("DELETE FROM campaign_totals")


def downgrade():
    with op.batch_alter_table('campaign_totals', schema=None) as batch_op:
        batch_op.drop_column('gifts')
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.drop_column('image_alt')
        batch_op.drop_column('image_path')
