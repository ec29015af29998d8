"""monthly gifts: an opaque random token for the donor's link, instead of the signed email

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 13:00:00.000000

Existing plans get a token of their own; links sent before (signed over the plan's id and
email) still work: the page redirects them to the new address.
"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('monthly_gifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manage_token', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    plans = [row[0] for row in conn.execute(sa.text("SELECT id FROM monthly_gifts"))]
    for plan_id in plans:
        conn.execute(sa.text("UPDATE monthly_gifts SET manage_token = :token WHERE id = :id"),
                     {"token": secrets.token_urlsafe(24), "id": plan_id})
    with op.batch_alter_table('monthly_gifts', schema=None) as batch_op:
        batch_op.alter_column('manage_token', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_monthly_gifts_manage_token'),
                                          ['manage_token'])


def downgrade():
    with op.batch_alter_table('monthly_gifts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_monthly_gifts_manage_token'), type_='unique')
        batch_op.drop_column('manage_token')
