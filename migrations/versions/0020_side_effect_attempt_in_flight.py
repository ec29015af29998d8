"""side effects: the attempt in flight (its Message-ID and until when it may still be running)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 14:15:00.000000

A receipt's attempt is written (and committed) before the message goes to the mail server,
so a worker killed after the server accepted it leaves a trace the next attempt can check.
"""
import sqlalchemy as sa
from alembic import op

from shop.extensions import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt_ref', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('attempt_until', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.drop_column('attempt_until')
        batch_op.drop_column('attempt_ref')
